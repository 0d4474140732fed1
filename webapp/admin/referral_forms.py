"""The staff forms for referrals: the program's rules (every field of
`ReferralSettings`, named alike so the service's problems land on their
field), a review decision with a note, and the report and list filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from webapp.forms.fields import Between, LocalIntegerField, strip
from webapp.models.referrals import REFERRAL_STATUSES
from webapp.services.referrals import report as referral_report
from webapp.services.referrals.rules import ReferralSettings

KIND_LABELS = {"none": _l("Nothing"), "points": _l("Points"), "credit": _l("Store credit"),
               "reward": _l("A reward from the catalog")}
QUALIFY_LABELS = {"signup": _l("On joining"), "purchase": _l("On their first purchase")}
FLAG_LABELS = {
    "self_email": _l("Same e-mail as the referrer (dots and +tags ignored)"),
    "self_device": _l("Joined from a device the referrer uses"),
    "velocity_link": _l("Too many sign-ups through this link in an hour"),
    "velocity_ip": _l("Too many sign-ups from this address in an hour"),
    "disposable_email": _l("A throwaway e-mail address"),
}
STATUS_LABELS = {"pending": _l("Waiting to qualify"), "held": _l("Held for review"), "qualified": _l("Qualified"),
                 "rejected": _l("Rejected"), "reversed": _l("Reversed (refund)"), "expired": _l("Expired")}
CHANNEL_LABELS = {"native": _l("The phone's share menu"), "copy": _l("Copy link"), "whatsapp": _l("WhatsApp"),
                  "telegram": _l("Telegram"), "sms": _l("SMS"), "email": _l("E-mail"), "qr": _l("QR code")}
PERIOD_LABELS = {"day": _l("Per day"), "week": _l("Per week"), "month": _l("Per month")}
DAYS_LABELS = {"": _l("All time"), "1": _l("Last 24 hours"), "7": _l("Last 7 days"), "30": _l("Last 30 days"),
               "90": _l("Last 90 days")}
# the service explains in English; staff read these
PROBLEMS = {
    "qualify_on": _l("Choose on joining or on the first purchase."),
    "min_purchase": _l("Zero or more, up to 10,000,000,000,000."),
    "qualify_days": _l("Between 1 and 365 days."),
    "referrer_kind": _l("Choose what the referrer gets."),
    "referrer_amount": _l("Give an amount of at least 1."),
    "referrer_reward_id": _l("Choose a reward from the catalog."),
    "friend_kind": _l("Choose what the friend gets."),
    "friend_amount": _l("Give an amount of at least 1."),
    "friend_reward_id": _l("Choose a reward from the catalog."),
    "board_kind": _l("Choose the board's prize."),
    "board_amount": _l("Give an amount of at least 1."),
    "board_reward_id": _l("Choose a reward from the catalog."),
    "monthly_cap": _l("Between 0 (no cap) and 10,000."),
    "attribution_days": _l("Between 1 and 365 days."),
    "velocity_link_per_hour": _l("Between 1 and 10,000."),
    "velocity_ip_per_hour": _l("Between 1 and 10,000."),
    "board_places": _l("Between 1 and 100."),
    "extra_disposable": _l("At most 10,000 characters."),
}
_NUM = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
SIDES = ("referrer", "friend", "board")


def _whole(label, low, high, message, **kw):
    return LocalIntegerField(label, validators=[InputRequired(_l("Enter a number.")), Between(low, high, message=message)],
                             render_kw=_NUM, **kw)


def _amount(label):
    # only read when the kind is points or credit: the service says if it is missing then
    return LocalIntegerField(label, validators=[Optional(), Between(0, 10**12, message=_l("Between 0 and 1,000,000,000,000."))],
                             render_kw=_NUM)


def _kind(label):
    return SelectField(label, choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])


class ReferralRulesForm(FlaskForm):
    enabled = BooleanField(_l("Referrals are on"))
    qualify_on = SelectField(_l("The friend qualifies"), choices=[SelectChoice(k, v) for k, v in QUALIFY_LABELS.items()])
    min_purchase = _whole(_l("First purchase of at least"), 0, 10**13, _l("Zero or more, up to 10,000,000,000,000."))
    qualify_days = _whole(_l("Within this many days of joining"), 1, 365, _l("Between 1 and 365 days."))
    referrer_kind = _kind(_l("The referrer gets"))
    referrer_amount = _amount(_l("Referrer's points or credit"))
    referrer_reward_id = SelectField(_l("Referrer's catalog reward"), choices=[], validate_choice=True)
    friend_kind = _kind(_l("The friend gets"))
    friend_amount = _amount(_l("Friend's points or credit"))
    friend_reward_id = SelectField(_l("Friend's catalog reward"), choices=[], validate_choice=True)
    monthly_cap = _whole(_l("Rewarded friends per referrer per month (0: no cap)"), 0, 10_000,
                         _l("Between 0 (no cap) and 10,000."))
    attribution_days = _whole(_l("An opened link counts for (days)"), 1, 365, _l("Between 1 and 365 days."))
    velocity_link_per_hour = _whole(_l("Sign-ups through one member's link per hour before holding"), 1, 10_000,
                                    _l("Between 1 and 10,000."))
    velocity_ip_per_hour = _whole(_l("Sign-ups from one address per hour before holding"), 1, 10_000,
                                  _l("Between 1 and 10,000."))
    hold_disposable = BooleanField(_l("Hold sign-ups with throwaway e-mail addresses"))
    extra_disposable = TextAreaField(_l("More throwaway domains or patterns, one per line"), filters=[strip],
                                     validators=[Optional(), Length(max=10_000)],
                                     render_kw={"dir": "ltr", "rows": 3, "placeholder": "example-trash.com\n*.xyz"})
    board_kind = _kind(_l("The month's top referrers get"))
    board_amount = _amount(_l("Board prize: points or credit"))
    board_reward_id = SelectField(_l("Board prize: catalog reward"), choices=[], validate_choice=True)
    board_places = _whole(_l("How many places win"), 1, 100, _l("Between 1 and 100."))

    def set_choices(self, _tiers, _segments, rewards) -> None:
        """The catalog rewards (the signature of `common.eligibility_choices`)."""
        options = [SelectChoice("", _l("None"))] + [SelectChoice(str(i), n) for i, n in rewards]
        for side in SIDES:
            getattr(self, f"{side}_reward_id").choices = options

    def settings(self) -> ReferralSettings:
        values = {name: getattr(self, name).data for name in ReferralSettings.__dataclass_fields__}
        for side in SIDES:
            raw = values[f"{side}_reward_id"]
            values[f"{side}_reward_id"] = int(raw) if raw else None
            values[f"{side}_amount"] = values[f"{side}_amount"] or 0
        values["extra_disposable"] = values["extra_disposable"] or ""
        values["enabled"], values["hold_disposable"] = bool(values["enabled"]), bool(values["hold_disposable"])
        return ReferralSettings(**values)


class ReferralExampleForm(ReferralRulesForm):
    """The same fields read from a GET for the live example."""

    class Meta:
        csrf = False


def form_data(settings: ReferralSettings) -> dict:
    data = {name: getattr(settings, name) for name in ReferralSettings.__dataclass_fields__}
    for side in SIDES:
        reward_id = data[f"{side}_reward_id"]
        data[f"{side}_reward_id"] = str(reward_id) if reward_id else ""
    return data


class ReviewForm(FlaskForm):
    note = StringField(_l("Note (optional)"), filters=[strip], validators=[Optional(), Length(max=300)],
                       render_kw={"autocomplete": "off", "maxlength": 300})


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    period = SelectField(_l("Period"), default="week",
                         choices=[SelectChoice(k, v) for k, v in PERIOD_LABELS.items()])

    def chosen(self) -> str:
        return self.period.data if self.period.data in referral_report.PERIODS else "week"


class ListForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="",
                         choices=[SelectChoice("", _l("Every status"))]
                         + [SelectChoice(s, STATUS_LABELS[s]) for s in REFERRAL_STATUSES])
    days = SelectField(_l("Joined"), default="", choices=[SelectChoice(k, v) for k, v in DAYS_LABELS.items()])
