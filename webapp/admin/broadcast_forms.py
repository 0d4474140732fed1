"""The broadcast editor's form, the labels of statuses and channels, and the
words for the service's refusals (kept here: they are about this form only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.admin.campaign_forms import EVERYONE, LocalDateTimeField
from webapp.forms.fields import Between, CheckboxesField, LocalIntegerField, strip
from webapp.models import CHANNELS
from webapp.services.messages import broadcasts

STATUS_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "cancelled": _l("Cancelled"),
}
CHANNEL_LABELS = {"inbox": _l("Inbox"), "email": _l("E-mail"), "sms": _l("SMS"), "push": _l("Web push")}
OUTBOX_STATUS_LABELS = {
    "pending": _l("Pending"), "sending": _l("Sending"), "sent": _l("Sent"), "delivered": _l("Delivered"),
    "failed": _l("Failed"), "suppressed": _l("Suppressed"),
}
REASON_LABELS = {
    "no_consent": _l("No consent"), "no_address": _l("No address"), "daily_cap": _l("Daily cap reached"),
    "inactive": _l("Member not active"), "unsubscribed": _l("Unsubscribed"), "quiet_hours": _l("Quiet hours"),
    "refused": _l("Refused by the provider"), "gave_up": _l("Gave up after retries"),
    "template": _l("Could not be worded"), "retrying": _l("Retrying"), "retry_by_staff": _l("Retried by staff"),
}
PROBLEM_WORDS = {
    "broadcast_name": _l("Give the broadcast a name of 1 to %(n)s characters."),
    "segment_choice": _l("Choose a segment that still exists."),
    "broadcast_channels": _l("Choose at least one channel."),
    "holdout_range": _l("Between 0 and %(n)s percent."),
    "attribution_days_range": _l("Between 1 and %(n)s days."),
    "broadcast_text_required": _l("Write this text: members read the broadcast in both languages."),
    "broadcast_text_long": _l("At most %(n)s characters."),
    "template_unknown_variable": _l("Unknown variable: %(variable)s. Use name, club, link or locale."),
    "template_syntax": _l("This text cannot be used as a template (%(error)s)."),
    "broadcast_schedule_past": _l("Enter a time in the future to schedule the broadcast."),
}
# the service's field names that differ from the form's
FORM_FIELDS = {"segment_id": "segment"}
_NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
_HINT = _l("Variables: {{ name }}, {{ club }}, {{ link }}.")


def show_problems(form, exc: broadcasts.BroadcastInvalid) -> None:
    """Each refusal on its field, in the staff member's language, its numbers and names filled in."""
    for name, code in exc.problems.items():
        text = PROBLEM_WORDS.get(code)
        words = str(text) % exc.params[name] if text is not None and name in exc.params else str(text or code)
        target = getattr(form, FORM_FIELDS.get(name, name), None)
        if target is None:
            form.form_errors.append(words)
        else:
            target.errors = [*target.errors, words]


def _text(label, *, lang: str, limit: int, rows: int | None = None):
    kw = {"dir": "rtl" if lang == "fa" else "ltr", "lang": lang, "maxlength": limit}
    validators = [DataRequired(_l("Write this text in both languages.")), Length(max=limit)]
    if rows:
        return TextAreaField(label, filters=[strip], validators=validators, render_kw={**kw, "rows": rows})
    return StringField(label, filters=[strip], validators=validators, render_kw={**kw, "autocomplete": "off"})


class BroadcastForm(FlaskForm):
    name = StringField(_l("Name (staff only)"), filters=[strip], validators=[
        DataRequired(_l("Give the broadcast a name.")), Length(max=broadcasts.MAX_NAME)],
        render_kw={"maxlength": broadcasts.MAX_NAME, "autocomplete": "off"})
    segment = SelectField(_l("Who it is for"), choices=[], validate_choice=False,
                          validators=[DataRequired(_l("Choose who the broadcast is for."))])
    channels = CheckboxesField(_l("Channels"), choices=[SelectChoice(c, CHANNEL_LABELS[c]) for c in CHANNELS],
                               default=["inbox"])
    subject_fa = _text(_l("Subject in Persian"), lang="fa", limit=broadcasts.MAX_SUBJECT)
    body_fa = _text(_l("Message in Persian"), lang="fa", limit=broadcasts.MAX_BODY, rows=5)
    subject_en = _text(_l("Subject in English"), lang="en", limit=broadcasts.MAX_SUBJECT)
    body_en = _text(_l("Message in English"), lang="en", limit=broadcasts.MAX_BODY, rows=5)
    holdout_percent = LocalIntegerField(_l("Hold-out group (%)"), default=10, validators=[
        InputRequired(_l("Enter a percentage (0 for no hold-out group).")),
        Between(0, broadcasts.MAX_HOLDOUT_PERCENT, message=_l("Between 0 and 50 percent."))], render_kw=_NUMBER)
    attribution_days = LocalIntegerField(_l("Count purchases for (days)"), default=7, validators=[
        InputRequired(_l("Enter a number of days.")),
        Between(1, broadcasts.MAX_ATTRIBUTION_DAYS, message=_l("Between 1 and 90 days."))], render_kw=_NUMBER)
    scheduled_at = LocalDateTimeField(_l("Send at (optional)"), validators=[Optional()],
                                      render_kw={"dir": "ltr", "autocomplete": "off",
                                                 "placeholder": "1405-09-10 18:30"})

    def draft(self) -> broadcasts.BroadcastDraft:
        choice = self.segment.data or ""
        return broadcasts.BroadcastDraft(
            name=self.name.data, segment_id=int(choice) if choice.isdigit() else None,
            channels=tuple(self.channels.data or ()), subject_fa=self.subject_fa.data, subject_en=self.subject_en.data,
            body_fa=self.body_fa.data, body_en=self.body_en.data, holdout_percent=self.holdout_percent.data,
            attribution_days=self.attribution_days.data, scheduled_at=self.scheduled_at.data)


def form_data(broadcast) -> dict:
    return {
        "name": broadcast.name, "segment": EVERYONE if broadcast.segment_id is None else str(broadcast.segment_id),
        "channels": list(broadcast.channels or ()), "subject_fa": broadcast.subject_fa,
        "subject_en": broadcast.subject_en, "body_fa": broadcast.body_fa, "body_en": broadcast.body_en,
        "holdout_percent": broadcast.holdout_percent, "attribution_days": broadcast.attribution_days,
        "scheduled_at": broadcast.scheduled_at,
    }


HINT = _HINT
