"""Staff-area forms. Numbers may be typed with Persian or Arabic digits."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.i18n import ascii_digits
from webapp.models import ROLES
from webapp.services.adjustments import MAX_CREDIT, MAX_POINTS, MAX_REASON, MIN_REASON

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


# What the services' domain errors say to staff, by error code (their own
# messages are English-only).
DOMAIN_MESSAGES = {
    "insufficient_points": _l("The member does not have that many points: "
                              "the balance cannot go below zero."),
    "insufficient_credit": _l("The member does not have that much credit."),
    "idempotency_conflict": _l("This form was already submitted with other values. "
                               "Nothing was changed; check the ledger and try again."),
    "reason_required": _l("Give a reason of at least 3 characters."),
    "amount_out_of_range": _l("The amount is zero or too large."),
    "invalid_form_token": _l("The form is missing its one-time token; reload the page."),
    "invalid_email": _l("This is not a valid e-mail address."),
    "weak_password": _l("The password must be at least 8 characters."),
    "conflict": _l("A staff account with this e-mail already exists."),
    "self_deactivation": _l("You cannot deactivate your own account."),
    "not_found": _l("Not found."),
}


def domain_message(exc) -> str:
    return DOMAIN_MESSAGES.get(exc.code, exc.message)
