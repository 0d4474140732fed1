"""Signing in to the staff area and choosing its language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.forms.choices import locale_choices
from webapp.forms.fields import strip

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
    locale = SelectField(_l("Language"), choices=locale_choices())
    next = HiddenField()
