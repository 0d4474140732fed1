"""Forms of the marketer's pages. Member strings: the member catalog."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class PartnerLoginForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=128)])
    next = HiddenField()


class PartnerLogoutForm(FlaskForm):
    everywhere = BooleanField(_l("Also sign out on all my other devices"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password (at least 8 characters)"), validators=[
        DataRequired(_l("Choose a password.")), Length(max=128)])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(_l("Type the password again.")), EqualTo("password", _l("The two passwords differ."))])


class CampaignLinkForm(FlaskForm):
    """The campaign-link builder: a GET form (it changes nothing)."""

    class Meta:
        csrf = False

    c = StringField(_l("Campaign tag"), validators=[Optional(), Length(max=32)])
