"""Staff pages for surveys (under /admin/surveys): the list, the editor, the
survey page with its actions (activate, send to a segment, close) and its
results: the NPS (or CSAT) figures, the trend by club month, per segment and per
tier, and the comments. Owners, marketers and auditors read them (the `surveys`
capability); owners and marketers change them (`offers`), each change audited
by the service."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.segment_forms import month_names
from webapp.admin.survey_forms import (
    KIND_LABELS,
    SHORT_KIND_LABELS,
    STATUS_LABELS,
    TRIGGER_LABELS,
    SendForm,
    SurveyForm,
    segment_choices,
    segment_id_of,
)
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale, persian_digits
from webapp.jobs.surveys import enqueue_send
from webapp.models import SurveyAnswer, SurveyInvite, utcnow
from webapp.services import surveys as service
from webapp.services import tiers
from webapp.services.offers import segments as segment_service
from webapp.services.surveys import results
from webapp.transaction import after_commit, commits, refusal

READ, WRITE = "surveys", "offers"  # read: owner, marketer, auditor; change: owner, marketer
STATE_WORDS = _l("The survey is not in a state that allows this: only drafts are activated, and only "
                 "active surveys are sent.")
PROBLEM_FIELDS = {"segment_id": "segment"}
LABELS = {"kinds": KIND_LABELS, "short_kinds": SHORT_KIND_LABELS, "triggers": TRIGGER_LABELS,
          "statuses": STATUS_LABELS}


def _survey_or_404(survey_id: int):
    try:
        return service.get_survey(db.session, survey_id)
    except service.NotFound:
        abort(404)


def month_label(month: results.Month) -> str:
    """"Azar 1405" / "آذر ۱۴۰۵" / "December 2026": a month of the club's calendar."""
    locale = current_locale()
    year = persian_digits(str(month.year)) if locale == "fa" else str(month.year)
    return f"{month_names(month.calendar, locale)[month.number - 1]} {year}"


def _with_segments(form):
    form.segment.choices = segment_choices(segment_service.active_segments(db.session))
    return form


@bp.get("/surveys")
@staff_required(READ)
def surveys():
    rows = service.survey_list(db.session)
    invited = dict(db.session.execute(select(SurveyInvite.survey_id, func.count())
                                      .group_by(SurveyInvite.survey_id)).all())
    answered = dict(db.session.execute(select(SurveyAnswer.survey_id, func.count())
                                       .group_by(SurveyAnswer.survey_id)).all())
    return render_template("admin/surveys.html", surveys=rows, invited=invited, answered=answered,
                           can_write=current_user.can(WRITE), **LABELS)


def _editor(form, survey=None, status: int = 200):
    return render_template("admin/survey_form.html", form=form, survey=survey, **LABELS), status


@bp.route("/surveys/new", methods=["GET", "POST"])
@staff_required(WRITE)
@commits
def survey_new():
    form = _with_segments(SurveyForm())
    if not form.validate_on_submit():
        return _editor(form, None, 422 if request.method == "POST" else 200)
    with refusal(form, only=(service.SurveyInvalid,), fields=PROBLEM_FIELDS):
        survey = service.create_survey(db.session, form.draft(), actor=staff_actor(), now=utcnow())
        flash(_("Survey saved as a draft. Check it, then activate it."), "success")
        return redirect(url_for(".survey", survey_id=survey.id))
    return _editor(form, None, 422)


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
@staff_required(WRITE)
@commits
def survey_edit(survey_id: int):
    survey = _survey_or_404(survey_id)
    form = SurveyForm(obj=survey) if request.method == "GET" else SurveyForm()
    if request.method == "GET":
        form.segment.data = str(survey.segment_id or "")
    _with_segments(form)
    if not form.validate_on_submit():
        return _editor(form, survey, 422 if request.method == "POST" else 200)
    with refusal(form, only=(service.SurveyInvalid,), fields=PROBLEM_FIELDS):
        service.update_survey(db.session, survey_id, form.draft(), actor=staff_actor(), now=utcnow())
        flash(_("Survey saved."), "success")
        return redirect(url_for(".survey", survey_id=survey_id))
    return _editor(form, survey, 422)


@bp.get("/surveys/<int:survey_id>")
@staff_required(READ)
def survey(survey_id: int):
    survey = _survey_or_404(survey_id)
    now, club = utcnow(), current_club()
    chosen = segment_service.active_segments(db.session)
    send_form = SendForm(segment=str(survey.segment_id or ""))
    send_form.segment.choices = segment_choices(chosen)
    program = tiers.load_program(db.session)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    return render_template(
        "admin/survey.html", survey=survey, form=ConfirmForm(), send_form=send_form,
        can_write=current_user.can(WRITE), segment_names={s.id: s.name for s in chosen},
        invited=service.invites.invited_count(db.session, survey.id),
        overall=results.overall(db.session, survey),
        trend=results.trend(db.session, survey, now=now, tz=club.timezone,
                            calendar="jalali" if club.locale == "fa" else "gregorian"),
        month_label=month_label,
        per_tier=results.by_tier(db.session, survey),
        tier_names={lv.id: lv for lv in (program.levels if program else ())},
        per_segment=results.by_segment(db.session, survey, chosen, now=now), segments=chosen,
        verbatims=results.verbatims(db.session, survey.id, page=page), **LABELS)


def _writer(view):
    @staff_required(WRITE)
    @wraps(view)
    @commits
    def wrapper(survey_id: int):
        _survey_or_404(survey_id)
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        with refusal(only=(service.SurveyStateConflict,), say=STATE_WORDS):
            view(survey_id)
        return redirect(url_for(".survey", survey_id=survey_id))

    return wrapper


@bp.post("/surveys/<int:survey_id>/activate")
@_writer
def survey_activate(survey_id: int):
    service.activate_survey(db.session, survey_id, actor=staff_actor(), now=utcnow())
    flash(_("The survey is active."), "success")


@bp.post("/surveys/<int:survey_id>/close")
@_writer
def survey_close(survey_id: int):
    service.close_survey(db.session, survey_id, actor=staff_actor(), now=utcnow())
    flash(_("The survey is closed: no more invitations or answers."), "success")


@bp.post("/surveys/<int:survey_id>/send")
@staff_required(WRITE)
@commits
def survey_send(survey_id: int):
    _survey_or_404(survey_id)
    form = SendForm()
    form.segment.choices = segment_choices(segment_service.active_segments(db.session))
    if not form.validate_on_submit():
        abort(400)
    segment_id = segment_id_of(form.segment.data)
    with refusal(only=(service.SurveyStateConflict,), say=STATE_WORDS):
        invited = service.send_survey(db.session, survey_id, segment_id, actor=staff_actor(), now=utcnow())
        if invited >= service.CHUNK:  # a big segment: the job invites the rest
            after_commit(lambda: enqueue_send(survey_id, segment_id))
            flash(_("Invitations are being sent; the rest of the segment follows in a few minutes."), "success")
        else:
            flash(_("%(n)s members were invited.", n=invited), "success")
    return redirect(url_for(".survey", survey_id=survey_id))
