"""`/surveys/<token>`: a member answers a survey from the link in their message.
No sign-in: the unguessable token is the authority, and it reaches only its own
invitation. One tap answers (each score is a submit button of a CSRF form); a
link with `?score=N` (from the message) pre-fills N and asks only to confirm or
add why. Then a thanks page, with a comment box if none was given. The page is
in the invited member's language; every request is rate limited."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from webapp.extensions import db, limiter
from webapp.i18n import LOCALES, ascii_digits
from webapp.member import bp
from webapp.models import utcnow
from webapp.services import surveys
from webapp.services.errors import NotFound
from webapp.services.surveys import rules
from webapp.transaction import commits, refusal

SCALE_ENDS = {
    "nps": (_l("Not at all likely"), _l("Extremely likely")),
    "csat": (_l("Very dissatisfied"), _l("Very satisfied")),
}
CSAT_LABELS = {1: _l("Very dissatisfied"), 2: _l("Dissatisfied"), 3: _l("Neutral"), 4: _l("Satisfied"),
               5: _l("Very satisfied")}


def _limit() -> str:
    return current_app.config.get("SURVEY_RATE_LIMIT", "60 per minute")


class SurveyAnswerForm(FlaskForm):
    score = StringField(_l("Score"), validators=[Length(max=4)])
    comment = TextAreaField(_l("Tell us why (optional)"),
                            validators=[Optional(), Length(max=surveys.answers.MAX_COMMENT)])


class SurveyCommentForm(FlaskForm):
    comment = TextAreaField(_l("Anything you would like to add? (optional)"),
                            validators=[Optional(), Length(max=surveys.answers.MAX_COMMENT)])


def parse_score(value) -> int | None:
    text = ascii_digits(str(value or "")).strip()
    return int(text) if text.isdigit() and len(text) <= 2 else None


def _invitation(token: str) -> surveys.Invitation:
    """The invitation, with the page switched to its member's language; 404 when unknown."""
    try:
        found = surveys.invitation(db.session, token)
    except NotFound:
        abort(404)
    if found.member.locale in LOCALES:
        g.vafa_locale = found.member.locale
        refresh()
    return found


def _page(found: surveys.Invitation, form, chosen: int | None = None, status: int = 200, comment_form=None):
    survey = found.survey
    template = "member/survey.html"
    if found.answer is not None:
        template = "member/survey_thanks.html"
    elif survey.status != "active":
        template = "member/survey_closed.html"
    return render_template(template, survey=survey, answer=found.answer, token=found.invite.token, form=form,
                           comment_form=comment_form or SurveyCommentForm(), chosen=chosen, scale=rules.scale(survey.kind),
                           ends=SCALE_ENDS[survey.kind], csat_labels=CSAT_LABELS), status


@bp.get("/surveys/<token>")
@limiter.limit(_limit)
def survey(token: str):
    found = _invitation(token)
    chosen = parse_score(request.args.get("score"))
    chosen = chosen if chosen is not None and rules.valid_score(found.survey.kind, chosen) else None
    return _page(found, SurveyAnswerForm(), chosen)


@bp.post("/surveys/<token>")
@limiter.limit(_limit)
@commits
def survey_answer(token: str):
    found = _invitation(token)
    form = SurveyAnswerForm()
    score = parse_score(form.score.data)
    if form.validate_on_submit():
        with refusal(form, field="score", only=(surveys.ScoreInvalid, surveys.SurveyClosed),
                     say=_l("Choose one of the scores.")):
            surveys.answer_survey(db.session, token, score=score, comment=form.comment.data, now=utcnow())
            return redirect(url_for(".survey", token=token))
    return _page(found, form, None, 422)


@bp.post("/surveys/<token>/comment")
@limiter.limit(_limit)
@commits
def survey_comment(token: str):
    found = _invitation(token)
    form = SurveyCommentForm()
    if found.answer is None:
        return redirect(url_for(".survey", token=token))
    if form.validate_on_submit():
        surveys.add_comment(db.session, token, comment=form.comment.data, now=utcnow())
        return redirect(url_for(".survey", token=token, noted=1))
    return _page(found, SurveyAnswerForm(), status=422, comment_form=form)
