"""The name and description every staff-made object carries in both languages
(challenges, raffles, instant-win games); the `texts_card` macro renders them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.forms.fields import strip

MAX_DESCRIPTION = 1000


def texts_form(max_name: int) -> type[FlaskForm]:
    """A form base with `name_fa`, `name_en`, `description_fa`, `description_en`;
    `max_name` is the service's own limit, so the browser stops where it would."""

    def name(label, required, lang, direction):
        return StringField(label, filters=[strip], validators=[DataRequired(required), Length(max=max_name)],
                           render_kw={"dir": direction, "lang": lang, "maxlength": max_name})

    def description(label, lang, direction):
        return TextAreaField(label, filters=[strip], validators=[Optional(), Length(max=MAX_DESCRIPTION)],
                             render_kw={"dir": direction, "lang": lang, "rows": 2})

    class TextsForm(FlaskForm):
        name_fa = name(_l("Name in Persian"), _l("Give the Persian name."), "fa", "rtl")
        name_en = name(_l("Name in English"), _l("Give the English name."), "en", "ltr")
        description_fa = description(_l("Description in Persian"), "fa", "rtl")
        description_en = description(_l("Description in English"), "en", "ltr")

    return TextsForm
