"""Member-facing forms. Labels are lazy so they follow the request's locale;
the real rules (valid mobile, password strength, uniqueness) live in services."""

from __future__ import annotations

import jdatetime
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.forms.choices import locale_choices
from webapp.forms.days import DayField
from webapp.i18n import current_locale
from webapp.member.messages import MISSING_IDENTIFIER

LOCALE_CHOICES = locale_choices()


class JoinForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    mobile = TelField(_l("Mobile number"), validators=[Optional(), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password."))])
    display_name = StringField(_l("Your name"), validators=[Optional(), Length(max=80)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.email.data or "").strip() and not (self.mobile.data or "").strip():
            self.email.errors = [*self.email.errors, MISSING_IDENTIFIER]
            return False
        return ok


class LoginForm(FlaskForm):
    login = StringField(
        _l("E-mail or mobile number"),
        validators=[DataRequired(_l("Enter your e-mail or mobile number.")), Length(max=254)],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class LogoutForm(FlaskForm):
    everywhere = BooleanField(_l("Also sign out on all my other devices"))


class LocaleForm(FlaskForm):
    locale = RadioField(choices=LOCALE_CHOICES, validators=[InputRequired()])
    next = HiddenField()


class BirthdayField(DayField):
    """A birthday typed year-month-day in any digits (Jalali when the year is
    before 1700), shown back in the member's calendar."""

    bad_day = _l("Enter the date as year-month-day, for example 1370-06-21.")

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not 1900 <= self.data.year <= 2100:
            raise ValueError(self.bad_day)

    def _value(self):
        if self.data is not None and not self.raw_data and current_locale() == "fa":
            return jdatetime.date.fromgregorian(date=self.data).strftime("%Y-%m-%d")
        return super()._value()


class SettingsForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[Optional(), Length(max=80)])
    birthday = BirthdayField(_l("Birthday"), validators=[Optional()],
                             render_kw={"inputmode": "numeric", "dir": "ltr",
                                        "placeholder": "1370-06-21"})
    locale = RadioField(_l("Language"), choices=LOCALE_CHOICES, validators=[InputRequired()])
    consent_email = BooleanField(_l("News and offers by e-mail"))
    consent_sms = BooleanField(_l("News and offers by SMS"))


class ForgotPasswordForm(FlaskForm):
    login = StringField(
        _l("E-mail or mobile number"),
        validators=[DataRequired(_l("Enter your e-mail or mobile number.")), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password."))])


class ResetCodeForm(NewPasswordForm):
    mobile = HiddenField()
    code = StringField(_l("The 6-digit code we sent you"),
                       validators=[DataRequired(_l("Enter the code from the SMS.")), Length(max=20)])


class CodeLoginForm(FlaskForm):
    mobile = TelField(_l("Mobile number"),
                      validators=[DataRequired(_l("Enter your mobile number.")), Length(max=32)])
    code = StringField(_l("The 6-digit code we sent you"), validators=[Optional(), Length(max=20)])
    next = HiddenField()
