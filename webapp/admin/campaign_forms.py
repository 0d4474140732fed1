"""The campaign editor's form. Dates are typed in the club's time zone, Jalali or
Gregorian (years before 1700 are Jalali), with an optional time of day."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import jdatetime
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from webapp.club import current_club
from webapp.forms.days import parse_day
from webapp.forms.fields import Between, LocalIntegerField, strip
from webapp.i18n import ascii_digits, current_locale
from webapp.services.offers import campaigns

KIND_LABELS = {
    "bonus": _l("Bonus points with a message"),
    "offer": _l("A reward at a campaign price"),
    "earn_rule": _l("A temporary earn rule"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "running": _l("Running"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "failed": _l("Failed"),
}
EVERYONE = "all"  # the audience choice "every active member"
_NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")

# the service's problems (English) in the staff member's language
PROBLEMS = {
    f"Give the campaign a name of 1 to {campaigns.MAX_NAME} characters.":
        _l("Give the campaign a name of 1 to %(n)s characters.", n=campaigns.MAX_NAME),
    "Unknown kind.": _l("Choose what the campaign gives."),
    "Choose an existing segment.": _l("Choose an existing segment."),
    "The end must come after the start.": _l("The end must come after the start."),
    f"A campaign lasts at most {campaigns.MAX_DAYS} days.":
        _l("A campaign lasts at most %(n)s days.", n=campaigns.MAX_DAYS),
    "The end has already passed.": _l("The end has already passed: move it later."),
    f"Between 0 and {campaigns.MAX_CONTROL_PERCENT} percent.":
        _l("Between 0 and %(n)s percent.", n=campaigns.MAX_CONTROL_PERCENT),
    "A positive budget, or none.": _l("A positive budget, or leave it empty for none."),
    f"At most {campaigns.MAX_MESSAGE} characters.": _l("At most %(n)s characters.", n=campaigns.MAX_MESSAGE),
    "Write the message in both languages.": _l("Write the message in both languages."),
    f"Between 1 and {campaigns.MAX_BONUS} points.": _l("Between 1 and 10,000,000 points."),
    "The budget must cover at least one member's bonus.":
        _l("The budget must cover at least one member's bonus."),
    "A bonus comes with a message: write it in both languages.":
        _l("A bonus comes with a message: write it in both languages."),
    "Choose a reward from the catalog.": _l("Choose a reward from the catalog."),
    "Zero or more points.": _l("Zero or more points."),
    "At most the catalog price.": _l("At most the reward's catalog price."),
    "Choose a draft earn rule no other campaign uses.":
        _l("Choose a draft earn rule no other campaign uses."),
}


def club_zone() -> ZoneInfo:
    return current_club().zone


class LocalDateTimeField(StringField):
    """"1405-09-10 18:30" or "2026-12-01" (midnight) in the club's time zone;
    `data` is an aware UTC datetime."""

    def process_formdata(self, valuelist):
        self.data = None
        text = ascii_digits(valuelist[0] if valuelist else "").strip()
        if not text:
            return
        day_text, _, time_text = text.partition(" ")
        try:
            day = parse_day(day_text)
            at = time()
            if time_text.strip():
                match = _TIME.fullmatch(time_text.strip())
                if not match:
                    raise ValueError(time_text)
                at = time(int(match[1]), int(match[2]))
        except ValueError as exc:
            raise ValueError(_l("Enter a date and time such as 1405-09-10 18:30 or 2026-12-01 18:30.")) from exc
        self.data = datetime.combine(day, at, tzinfo=club_zone()).astimezone(UTC)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return local_text(self.data) if self.data else ""


def local_text(value: datetime) -> str:
    """How the field shows a stored time: Jalali for Persian staff."""
    local = value.astimezone(club_zone())
    day = jdatetime.date.fromgregorian(date=local.date()) if current_locale() == "fa" else local.date()
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d} {local:%H:%M}"


class CampaignForm(FlaskForm):
    name = StringField(_l("Name (staff only)"), filters=[strip], validators=[
        DataRequired(_l("Give the campaign a name.")), Length(max=campaigns.MAX_NAME)],
        render_kw={"maxlength": campaigns.MAX_NAME, "autocomplete": "off"})
    kind = SelectField(_l("What it gives"), default="bonus",
                       choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    segment = SelectField(_l("Who it is for"), choices=[], validate_choice=False,
                          validators=[DataRequired(_l("Choose who the campaign is for."))])
    starts_at = LocalDateTimeField(_l("Starts"), validators=[InputRequired(_l("Enter when it starts."))],
                                   render_kw={"dir": "ltr", "autocomplete": "off",
                                              "placeholder": "1405-09-10 18:30"})
    ends_at = LocalDateTimeField(_l("Ends (the offer ends and measuring stops)"),
                                 validators=[InputRequired(_l("Enter when it ends."))],
                                 render_kw={"dir": "ltr", "autocomplete": "off",
                                            "placeholder": "1405-09-24 23:59"})
    control_percent = LocalIntegerField(_l("Control group (%)"), default=10, validators=[
        InputRequired(_l("Enter a percentage (0 for no control group).")),
        Between(0, campaigns.MAX_CONTROL_PERCENT, message=_l("Between 0 and 50 percent."))],
        render_kw=_NUMBER)
    budget_points = LocalIntegerField(_l("Budget (points, empty for none)"), validators=[
        Between(1, campaigns.MAX_BUDGET, zero=False,
                            message=_l("A positive budget, or leave it empty for none."))],
        render_kw=_NUMBER)
    bonus_points = LocalIntegerField(_l("Bonus points per member"), validators=[
        Between(1, campaigns.MAX_BONUS, message=_l("Between 1 and 10,000,000 points."))],
        render_kw=_NUMBER)
    message_fa = TextAreaField(_l("Message in Persian"), filters=[strip],
                               validators=[Length(max=campaigns.MAX_MESSAGE)],
                               render_kw={"dir": "rtl", "lang": "fa", "rows": 3,
                                          "maxlength": campaigns.MAX_MESSAGE})
    message_en = TextAreaField(_l("Message in English"), filters=[strip],
                               validators=[Length(max=campaigns.MAX_MESSAGE)],
                               render_kw={"dir": "ltr", "lang": "en", "rows": 3,
                                          "maxlength": campaigns.MAX_MESSAGE})
    reward = SelectField(_l("Reward"), choices=[], validate_choice=False)
    offer_cost_points = LocalIntegerField(_l("Campaign price (points)"), validators=[
        Between(0, campaigns.MAX_OFFER_COST, message=_l("Zero or more points."))],
        render_kw=_NUMBER)
    earn_rule = SelectField(_l("Earn rule (a draft)"), choices=[], validate_choice=False)

    # (no Optional() on the numbers: it would stop the cross-field checks below; Between skips empty values)

    def validate_bonus_points(self, field):
        if self.kind.data == "bonus" and field.data is None and not field.errors:
            raise ValidationError(_l("Enter the bonus points per member."))

    def validate_budget_points(self, field):
        bonus = self.bonus_points.data
        if self.kind.data == "bonus" and field.data is not None and bonus and field.data < bonus:
            raise ValidationError(_l("The budget must cover at least one member's bonus."))

    def validate_reward(self, field):
        if self.kind.data == "offer" and not field.data:
            raise ValidationError(_l("Choose a reward from the catalog."))

    def validate_offer_cost_points(self, field):
        if self.kind.data == "offer" and field.data is None and not field.errors:
            raise ValidationError(_l("Enter the campaign price in points."))

    def validate_earn_rule(self, field):
        if self.kind.data == "earn_rule" and not field.data:
            raise ValidationError(_l("Choose a draft earn rule."))

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must come after the start."))

    def draft(self) -> campaigns.CampaignDraft:
        def chosen(value):
            return int(value) if value and value.isdigit() else None

        return campaigns.CampaignDraft(
            name=self.name.data, kind=self.kind.data,
            segment_id=None if self.segment.data == EVERYONE else chosen(self.segment.data),
            starts_at=self.starts_at.data, ends_at=self.ends_at.data,
            control_percent=self.control_percent.data, budget_points=self.budget_points.data,
            bonus_points=self.bonus_points.data, message_fa=self.message_fa.data,
            message_en=self.message_en.data, reward_id=chosen(self.reward.data),
            offer_cost_points=self.offer_cost_points.data, earn_rule_id=chosen(self.earn_rule.data))

    def show_problems(self, problems: dict[str, str]) -> None:
        names = {"segment_id": "segment", "reward_id": "reward", "earn_rule_id": "earn_rule"}
        for name, problem in problems.items():
            field = getattr(self, names.get(name, name), None)
            message = PROBLEMS.get(problem, problem)
            if field is None:
                self.form_errors.append(message)
            elif message not in field.errors:
                field.errors = [*field.errors, message]


def form_data(campaign) -> dict:
    return {
        "name": campaign.name, "kind": campaign.kind,
        "segment": EVERYONE if campaign.segment_id is None else str(campaign.segment_id),
        "starts_at": campaign.starts_at, "ends_at": campaign.ends_at,
        "control_percent": campaign.control_percent, "budget_points": campaign.budget_points,
        "bonus_points": campaign.bonus_points, "message_fa": campaign.message_fa,
        "message_en": campaign.message_en,
        "reward": "" if campaign.reward_id is None else str(campaign.reward_id),
        "offer_cost_points": campaign.offer_cost_points,
        "earn_rule": "" if campaign.earn_rule_id is None else str(campaign.earn_rule_id),
    }
