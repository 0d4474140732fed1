"""Staff-area forms. Numbers may be typed with Persian or Arabic digits."""

from __future__ import annotations

import re
import secrets
from datetime import date
from decimal import Decimal

import jdatetime
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from webapp.i18n import ascii_digits
from webapp.models import ROLES
from webapp.services.ledger.adjustments import MAX_CREDIT, MAX_POINTS, MAX_REASON, MIN_REASON
from webapp.services.tiers import rules

_INTEGER = re.compile(r"[+-]?\d{1,15}")
# Latin, Persian (U+066C) and Arabic thousands separators, spaces, and the
# typographic minus (U+2212) people paste from spreadsheets
_SEPARATORS = str.maketrans({",": "", "\u066c": "", "\u060c": "", " ": "", "\u2212": "-"})


def strip(value):
    return value.strip() if isinstance(value, str) else value


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


class LocalIntegerField(StringField):
    """A whole number typed with any digits, an optional sign and separators."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = ascii_digits(valuelist[0] or "").translate(_SEPARATORS).strip()
        if not text:
            return
        if not _INTEGER.fullmatch(text):
            raise ValueError(_l("Enter a whole number, for example 250 or -40."))
        self.data = int(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class Between:
    """`low <= value <= high` (and not zero unless allowed). A field that did not
    parse already carries its own error, so this one stays quiet then."""

    def __init__(self, low: int, high: int, *, zero: bool = True, message=None):
        self.low, self.high, self.zero, self.message = low, high, zero, message

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if value < self.low or value > self.high or (value == 0 and not self.zero):
            raise ValidationError(self.message)


# -- signing in ----------------------------------------------------------------


WRONG_LOGIN = _l("Wrong e-mail or password.")


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail"), filters=[strip],
                        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "username", "dir": "ltr"})
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(_l("Enter your password.")), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice("fa", "فارسی"),
                                                  SelectChoice("en", "English")])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


# -- members -------------------------------------------------------------------


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search"), filters=[strip], validators=[Optional(), Length(max=100)])


_REASON = [
    DataRequired(_l("A reason is required.")),
    Length(min=MIN_REASON, max=MAX_REASON,
           message=_l("Give a reason of %(min)d to %(max)d characters.")),
]


class AdjustPointsForm(FlaskForm):
    amount = LocalIntegerField(
        _l("Points (+ to add, - to take away)"),
        validators=[InputRequired(_l("Enter the number of points.")),
                    Between(-MAX_POINTS, MAX_POINTS, zero=False,
                            message=_l("Enter a non-zero number of points up to 10,000,000."))],
        render_kw={"inputmode": "text", "autocomplete": "off", "dir": "ltr"},
    )
    reason = StringField(_l("Reason"), filters=[strip], validators=_REASON,
                         render_kw={"autocomplete": "off", "maxlength": MAX_REASON})
    # one-time token: the ledger's idempotency key, so a double click posts once
    token = HiddenField(default=new_form_token)


class GrantCreditForm(FlaskForm):
    amount = LocalIntegerField(
        _l("Store credit (smallest money unit)"),
        validators=[InputRequired(_l("Enter the amount of credit.")),
                    Between(1, MAX_CREDIT, message=_l("Enter a positive amount."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"},
    )
    reason = StringField(_l("Reason"), filters=[strip], validators=_REASON,
                         render_kw={"autocomplete": "off", "maxlength": MAX_REASON})
    token = HiddenField(default=new_form_token)


# -- owner: settings, keys, staff ------------------------------------------------


class EarnSettingsForm(FlaskForm):
    earn_points = LocalIntegerField(
        _l("Points per step"),
        validators=[InputRequired(_l("Enter the points per step.")),
                    Between(0, 1_000_000, message=_l("Between 0 and 1,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    earn_per_amount = LocalIntegerField(
        _l("Step (purchase amount in the smallest money unit)"),
        validators=[InputRequired(_l("Enter the purchase step.")),
                    Between(1, 10**12, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    points_expiry_days = LocalIntegerField(
        _l("Points expire after (days; 0 = never)"),
        validators=[InputRequired(_l("Enter the expiry in days.")),
                    Between(0, 3650, message=_l("Between 0 (never) and 3650 days."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )
    earn_enabled = BooleanField(_l("Purchases earn points"))
    example_amount = LocalIntegerField(
        _l("Example purchase"),
        validators=[Optional(), Between(1, 10**12, message=_l("At least 1."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"},
    )


class ExampleForm(EarnSettingsForm):
    """The same fields read from a GET for the live example."""

    class Meta:
        csrf = False


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name (the till or shop it is for)"), filters=[strip],
                       validators=[DataRequired(_l("Give the key a name.")), Length(max=80)])


ROLE_LABELS = {
    "owner": _l("Owner"),
    "marketer": _l("Marketer"),
    "operator": _l("Operator"),
    "auditor": _l("Auditor"),
}


MEMBER_STATUSES = {
    "active": _l("active"),
    "suspended": _l("suspended"),
    "closed": _l("closed"),
}

LEDGER_KINDS = {
    "earn": _l("Earned"),
    "spend": _l("Spent"),
    "refund": _l("Refund"),
    "reversal": _l("Reversed (refund)"),
    "expire": _l("Expired"),
    "adjust": _l("Adjustment"),
    "grant": _l("Credit grant"),
    "convert": _l("Conversion"),
}


class StaffForm(FlaskForm):
    email = StringField(_l("E-mail"), filters=[strip],
                        validators=[DataRequired(_l("Enter an e-mail address.")), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off", "dir": "ltr"})
    display_name = StringField(_l("Name"), filters=[strip], validators=[Length(max=80)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES],
                       default="operator")
    locale = SelectField(_l("Language"), choices=[
        SelectChoice("", _l("Club default")), SelectChoice("fa", "فارسی"),
        SelectChoice("en", "English")])
    password = PasswordField(_l("Password (at least 8 characters)"),
                             validators=[DataRequired(_l("Enter a password.")),
                                         Length(min=8, max=128,
                                                message=_l("Between 8 and 128 characters."))],
                             render_kw={"autocomplete": "new-password"})


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    staff = SelectField(_l("Staff"), validators=[Optional()], validate_choice=False)


# -- tiers ---------------------------------------------------------------------

_DECIMAL = re.compile(r"\d{1,6}(\.\d+)?")
# Latin point, Persian decimal separator (U+066B) and the slash Persian
# typists often use for it
_DECIMAL_POINTS = str.maketrans({"\u066b": ".", "/": ".", " ": ""})


class LocalDecimalField(StringField):
    """A decimal such as 1.5 or ۱٫۵, kept exact (Decimal, never float), with at
    most `places` digits after the point."""

    def __init__(self, label=None, validators=None, *, places: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = ascii_digits(valuelist[0] or "").translate(_DECIMAL_POINTS).strip()
        if not text:
            return
        if not _DECIMAL.fullmatch(text):
            raise ValueError(_l("Enter a number such as 1 or 1.5."))
        value = Decimal(text)
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueError(_l("Use at most %(places)d digits after the point.", places=self.places))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else decimal_text(self.data)


def decimal_text(value: Decimal) -> str:
    """1.50 → "1.5", 2.0 → "2" (no exponent)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class DecimalBetween:
    def __init__(self, low: Decimal, high: Decimal, message):
        self.low, self.high, self.message = low, high, message

    def __call__(self, form, field):
        if field.data is not None and not self.low <= field.data <= self.high:
            raise ValidationError(self.message)


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
    reason = StringField(_l("Reason"), filters=[strip], validators=_REASON,
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


ENTER_DAY = _l("Enter a date as year-month-day, for example 1405-10-30 (Jalali) or 2027-01-20.")


class DayField(StringField):
    """A day typed year-month-day in any digits (Jalali when the year is before
    1700), or blank (None). What was typed is shown back as typed."""

    bad_day = ENTER_DAY

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        try:
            self.data = parse_day(text)
        except ValueError as exc:
            raise ValueError(self.bad_day) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else (self.data or "")


def parse_day(text: str) -> date:
    """year-month-day in any digits; years before 1700 are Jalali (Solar Hijri)."""
    parts = re.split(r"[-/.]", ascii_digits(text).strip())
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    year, month, day = (int(p) for p in parts)
    if year < 1700:
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)


# -- wallet ----------------------------------------------------------------------


class WalletSettingsForm(FlaskForm):
    enabled = BooleanField(_l("Members may convert points to store credit"))
    points_per_step = LocalIntegerField(_l("Points per step"), validators=[
        InputRequired(_l("Enter the points per step.")),
        Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    credit_per_step = LocalIntegerField(_l("Store credit per step (smallest money unit)"), validators=[
        InputRequired(_l("Enter the credit per step.")),
        Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    min_points = LocalIntegerField(_l("Minimum points per conversion"), validators=[
        InputRequired(_l("Enter the minimum.")),
        Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    daily_cap_points = LocalIntegerField(_l("Daily cap per member (points; 0 = no cap)"), validators=[
        InputRequired(_l("Enter the daily cap (0 for none).")),
        Between(0, 10**9, message=_l("Zero or more."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})
    example_points = LocalIntegerField(_l("Example: points converted"), validators=[
        Optional(), Between(1, 10**9, message=_l("Between 1 and 1,000,000,000."))],
        render_kw={"inputmode": "numeric", "dir": "ltr"})


class WalletExampleForm(WalletSettingsForm):
    """The same fields read from a GET for the live example."""

    class Meta:
        csrf = False
