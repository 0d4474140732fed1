"""The tier program editor (levels, window, grace) and a member's level override."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError

from webapp.admin.member_forms import REASON
from webapp.forms.days import parse_day
from webapp.forms.fields import (
    Between,
    DecimalBetween,
    LocalDecimalField,
    LocalIntegerField,
    new_form_token,
    strip,
)
from webapp.services.ledger.adjustments import MAX_REASON
from webapp.services.tiers import rules

METRIC_LABELS = {
    "points_earned": _l("Points earned"),
    "spend": _l("Spend (money)"),
    "purchases": _l("Number of purchases"),
}
WINDOW_LABELS = {"rolling": _l("Rolling window of N days"), "calendar": _l("Calendar period")}
PERIOD_LABELS = {"month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}
CALENDAR_LABELS = {"jalali": _l("Jalali (Solar Hijri)"), "gregorian": _l("Gregorian")}
TIER_ICONS = {
    "medal": _l("Medal"),
    "star": _l("Star"),
    "gem": _l("Gem"),
    "crown": _l("Crown"),
    "trophy": _l("Trophy"),
    "shield": _l("Shield"),
    "leaf": _l("Leaf"),
    "heart": _l("Heart"),
}  # the member pages draw these (templates/_partials/tier_badge.html)
MAX_LEVELS = 12
MAX_BENEFITS = 10
MAX_BENEFIT_LENGTH = 200
_COLOR = r"#[0-9a-fA-F]{6}"


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class BenefitLines:
    """One benefit per line: at most MAX_BENEFITS lines of MAX_BENEFIT_LENGTH."""

    def __call__(self, form, field):
        lines = benefit_lines(field.data)
        if len(lines) > MAX_BENEFITS:
            raise ValidationError(_l("At most %(n)d benefits.", n=MAX_BENEFITS))
        if any(len(line) > MAX_BENEFIT_LENGTH for line in lines):
            raise ValidationError(_l("Keep each benefit under %(n)d characters.", n=MAX_BENEFIT_LENGTH))


def benefit_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class TierLevelForm(Form):
    """One row of the level table (a plain Form: the CSRF token is the parent's)."""

    code = StringField(_l("Code"), filters=[_lower], validators=[
        DataRequired(_l("Give the level a short code.")),
        Regexp(r"[a-z0-9_-]{1,32}\Z", message=_l("Latin letters, digits, - and _ (up to 32)."))],
        render_kw={"dir": "ltr", "autocomplete": "off", "maxlength": 32})
    name_fa = StringField(_l("Name in Persian"), filters=[strip], validators=[
        DataRequired(_l("Give the Persian name.")), Length(max=60)],
        render_kw={"dir": "rtl", "lang": "fa", "maxlength": 60})
    name_en = StringField(_l("Name in English"), filters=[strip], validators=[
        DataRequired(_l("Give the English name.")), Length(max=60)],
        render_kw={"dir": "ltr", "lang": "en", "maxlength": 60})
    threshold = LocalIntegerField(_l("Threshold"), validators=[
        InputRequired(_l("Enter the threshold (0 for the entry level).")),
        Between(0, 10**15, message=_l("Zero or more."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    multiplier = LocalDecimalField(_l("Earn multiplier"), places=4, default=Decimal(1), validators=[
        InputRequired(_l("Enter the multiplier, for example 1 or 1.5.")),
        DecimalBetween(Decimal(0), Decimal(10), _l("Between 0 and 10."))],
        render_kw={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"})
    color = StringField(_l("Colour"), filters=[_lower], default=rules.DEFAULT_COLOR, validators=[
        DataRequired(_l("Choose a colour.")),
        Regexp(_COLOR + r"\Z", message=_l("A colour like #8c6a4f."))],
        render_kw={"type": "color"})
    icon = SelectField(_l("Icon"), default="medal",
                       choices=[SelectChoice(k, v) for k, v in TIER_ICONS.items()])
    benefits_fa = TextAreaField(_l("Benefits in Persian (one per line)"),
                                validators=[BenefitLines()], render_kw={"dir": "rtl", "lang": "fa", "rows": 3})
    benefits_en = TextAreaField(_l("Benefits in English (one per line, same order)"),
                                validators=[BenefitLines()], render_kw={"dir": "ltr", "lang": "en", "rows": 3})
    free_shipping = BooleanField(_l("Free shipping"))
    rewards_unlocked = BooleanField(_l("Unlocks tier-only rewards"))
    extra_raffle_tickets = LocalIntegerField(_l("Extra raffle tickets"), default=0, validators=[
        InputRequired(_l("Enter a number (0 for none).")),
        Between(0, 1000, message=_l("Between 0 and 1,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"})
    fee_rebate_percent = LocalDecimalField(_l("Fee rebate (%)"), places=2, default=Decimal(0), validators=[
        InputRequired(_l("Enter a percentage (0 for none).")),
        DecimalBetween(Decimal(0), Decimal(100), _l("Between 0 and 100."))],
        render_kw={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"})

    def validate_benefits_en(self, field):
        if len(benefit_lines(field.data)) != len(benefit_lines(self.benefits_fa.data)):
            raise ValidationError(_l("Write each benefit in both languages: "
                                     "the same number of lines in Persian and English."))


class TierProgramForm(FlaskForm):
    metric = SelectField(_l("Members qualify by"), default="points_earned",
                         choices=[SelectChoice(k, v) for k, v in METRIC_LABELS.items()])
    window_kind = SelectField(_l("Counted over"), default="rolling",
                              choices=[SelectChoice(k, v) for k, v in WINDOW_LABELS.items()])
    window_days = LocalIntegerField(_l("Rolling window (days)"), default=365, validators=[
        Between(1, 3650, message=_l("Between 1 and 3650 days."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    calendar_period = SelectField(_l("Calendar period"), default="year",
                                  choices=[SelectChoice(k, v) for k, v in PERIOD_LABELS.items()])
    calendar_system = SelectField(_l("Calendar"), default="jalali",
                                  choices=[SelectChoice(k, v) for k, v in CALENDAR_LABELS.items()])
    grace_days = LocalIntegerField(_l("Downgrade grace (days)"), default=30, validators=[
        InputRequired(_l("Enter the grace in days (0 for none).")),
        Between(0, 365, message=_l("Between 0 and 365 days."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    allow_overrides = BooleanField(_l("Staff may override a member's level (with a reason and an end date)"),
                                   default=True)
    rebate_money_per_point = LocalIntegerField(_l("Fee rebate: money per point (0 = off)"), default=0,
                                               validators=[InputRequired(_l("Enter a number (0 = off).")),
                                                           Between(0, 10**9, message=_l("Zero or more."))],
                                               render_kw={"inputmode": "numeric", "dir": "ltr"})
    levels = FieldList(FormField(TierLevelForm), min_entries=1, max_entries=MAX_LEVELS)
    # the program version this editor started from, and the previewed program's
    # fingerprint: the confirm step saves exactly what was previewed
    version = HiddenField()
    digest = HiddenField()
    token = HiddenField(default=new_form_token, validators=[
        DataRequired(_l("The form is missing its one-time token; reload the page.")),
        Length(max=64, message=_l("The form is missing its one-time token; reload the page."))])

    def validate_window_days(self, field):
        if self.window_kind.data == "rolling" and field.data is None:
            raise ValidationError(_l("Enter the window in days."))


OVERRIDE_END = ""  # the level choice that ends an override


class TierOverrideForm(FlaskForm):
    tier = SelectField(_l("Level"), validate_choice=True, choices=[])
    until = StringField(_l("Until (date)"), filters=[strip],
                        render_kw={"dir": "ltr", "inputmode": "numeric", "autocomplete": "off",
                                   "placeholder": "1405-10-30"})
    reason = StringField(_l("Reason"), filters=[strip], validators=REASON,
                         render_kw={"autocomplete": "off", "maxlength": MAX_REASON})

    def validate_until(self, field):
        if self.tier.data == OVERRIDE_END:
            field.data = None
            return
        if not field.data:
            raise ValidationError(_l("An override needs an end date."))
        try:
            field.data = parse_day(field.data)
        except ValueError as exc:
            raise ValidationError(_l("Enter a date as year-month-day, for example "
                                     "1405-10-30 (Jalali) or 2027-01-20.")) from exc
