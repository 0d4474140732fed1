"""The owner's staff accounts and API keys, and the audit log's filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from webapp.forms.choices import locale_choices
from webapp.forms.fields import strip
from webapp.models import ROLES


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name (the till or shop it is for)"), filters=[strip],
                       validators=[DataRequired(_l("Give the key a name.")), Length(max=80)])


ROLE_LABELS = {
    "owner": _l("Owner"),
    "marketer": _l("Marketer"),
    "operator": _l("Operator"),
    "auditor": _l("Auditor"),
}


class StaffForm(FlaskForm):
    email = StringField(_l("E-mail"), filters=[strip],
                        validators=[DataRequired(_l("Enter an e-mail address.")), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off", "dir": "ltr"})
    display_name = StringField(_l("Name"), filters=[strip], validators=[Length(max=80)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES],
                       default="operator")
    locale = SelectField(_l("Language"), choices=locale_choices(
        SelectChoice("", _l("Club default"))))
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
