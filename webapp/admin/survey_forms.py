"""The survey editor's form and the send form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.forms.fields import strip
from webapp.services.surveys import SurveyDraft
from webapp.services.surveys.manage import MAX_NAME, MAX_QUESTION

KIND_LABELS = {"nps": _l("NPS: how likely to recommend us (0–10)"), "csat": _l("CSAT: how satisfied (1–5)")}
SHORT_KIND_LABELS = {"nps": _l("NPS"), "csat": _l("CSAT")}
TRIGGER_LABELS = {
    "manual": _l("Sent by staff to a segment"),
    "after_redemption": _l("After a reward is redeemed"),
    "after_purchase": _l("After a purchase"),
}
STATUS_LABELS = {"draft": _l("Draft"), "active": _l("Active"), "closed": _l("Closed")}
EVERYONE = ""  # the segment choice "every active member"


def segment_choices(segments) -> list[SelectChoice]:
    return [SelectChoice(EVERYONE, _l("Every active member"))] + [SelectChoice(str(s.id), s.name) for s in segments]


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def segment_id_of(choice: str | None) -> int | None:
    return int(choice) if choice and choice.isdigit() else None


class SurveyForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS))
    name = StringField(_l("Name (for staff)"), filters=[strip], validators=[DataRequired(), Length(max=MAX_NAME)])
    question_fa = TextAreaField(_l("Question in Persian"), filters=[strip],
                                validators=[DataRequired(), Length(max=MAX_QUESTION)])
    question_en = TextAreaField(_l("Question in English"), filters=[strip],
                                validators=[DataRequired(), Length(max=MAX_QUESTION)])
    trigger = SelectField(_l("When members are asked"), choices=_choices(TRIGGER_LABELS))
    segment = SelectField(_l("Who may be asked"), choices=[], validate_choice=True)

    def draft(self) -> SurveyDraft:
        return SurveyDraft(kind=self.kind.data, name=self.name.data, question_fa=self.question_fa.data,
                           question_en=self.question_en.data, trigger=self.trigger.data,
                           segment_id=segment_id_of(self.segment.data))


class SendForm(FlaskForm):
    segment = SelectField(_l("Send to"), choices=[], validate_choice=True)
