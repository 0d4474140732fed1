"""Staff pages for contests (under /admin): the list, a contest's form (its
kind's own fields come from the registry's editor partial), quiz questions,
publishing, a prediction's result and the standings. Every write goes through
`services.contests`, which audits it; the minute job finalises."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.contest_forms import (
    PRIZE_KIND_LABELS,
    STATUS_LABELS,
    ContestForm,
    QuestionForm,
    ResultForm,
    form_data,
    question_data,
)
from webapp.admin.uploads import discard_image, has_upload, store_image
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale, localized
from webapp.models import Contest, ContestEntry, Member, Reward, utcnow
from webapp.services.play import contests as service
from webapp.services.play import leaderboards, registry
from webapp.services.play.quiz import questions_of
from webapp.transaction import commits, refusal

MAX_ID = 2**31 - 1
# service problem → form field (None: above the form)
PROBLEM_FIELDS = {"kind": None, "name": "name_en", "closes_at": "closes_on", "prizes": None, "settings": "question_en",
                  "questions": None, "text": "text_en", "options": "options_en", "correct_option": "correct",
                  "time_limit_ms": "time_limit", "result": None}



def _contest(contest_id: int) -> Contest:
    contest = db.session.get(Contest, contest_id) if contest_id <= MAX_ID else None
    if contest is None:
        abort(404)
    return contest


def _rewards(form: ContestForm) -> ContestForm:
    rows = db.session.execute(select(Reward.id, localized(Reward, "name"))
                              .where(Reward.status != "archived").order_by(Reward.id)).all()
    form.set_rewards(rows)
    return form


@bp.get("/contests", endpoint="contests")
@staff_required("offers")
def contests():
    rows = list(db.session.scalars(select(Contest).order_by(Contest.id.desc()).limit(200)))
    counts = dict(db.session.execute(select(ContestEntry.contest_id, func.count()).where(
        ContestEntry.contest_id.in_([c.id for c in rows])).group_by(ContestEntry.contest_id)).all()) if rows else {}
    return render_template("admin/contests.html", rows=rows, counts=counts, kinds=registry.kinds("contest"),
                           kind_labels=registry.labels("contest"), status_labels=STATUS_LABELS)


@bp.route("/contests/new/<kind>", methods=["GET", "POST"], endpoint="new_contest")
@staff_required("offers")
@commits
def new_contest(kind: str):
    if kind not in registry.kinds("contest"):
        abort(404)
    form = _rewards(ContestForm.for_kind(kind)())
    if form.validate_on_submit():
        with refusal(form, only=(service.ContestInvalid,), fields=PROBLEM_FIELDS):
            contest = service.create_contest(db.session, form.spec(kind, current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The contest is saved as a draft."), "success")
            return redirect(url_for(".contest", contest_id=contest.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/contest_form.html", form=form, contest=None, kind=registry.get_type(kind),
                           kind_name=kind, kind_labels=registry.labels("contest")), status


@bp.route("/contests/<int:contest_id>", methods=["GET", "POST"], endpoint="contest")
@staff_required("offers")
@commits
def contest(contest_id: int):
    contest = _contest(contest_id)
    form_class = ContestForm.for_kind(contest.kind)
    if request.method == "POST":
        form = _rewards(form_class())
    else:
        form = _rewards(form_class(formdata=None, data=form_data(contest, current_club().timezone, current_locale())))
    if request.method == "POST" and form.validate_on_submit():
        with refusal(form, only=(service.ContestInvalid, service.ContestLocked, service.ContestWrongState),
                     fields=PROBLEM_FIELDS, say={
                         service.ContestLocked: _("Members have played: the opening, entry cost and question are "
                                                  "fixed. Your changes were not saved."),
                         service.ContestWrongState: _("A finalised contest cannot be edited.")}):
            service.update_contest(db.session, contest_id, form.spec(contest.kind, current_club().timezone), actor=staff_actor(),
                                   now=utcnow())
            flash(_("The contest is saved."), "success")
            return redirect(url_for(".contest", contest_id=contest_id))
    status = 422 if request.method == "POST" else 200
    return _contest_page(contest, form, status=status)


def _contest_page(contest: Contest, form, *, status: int = 200, result_form=None):
    board = leaderboards.board(db.session, current_app.extensions["vafa_redis"], contest, None, n=50)
    played = db.session.scalar(select(func.count()).select_from(ContestEntry)
                               .where(ContestEntry.contest_id == contest.id)) or 0
    kind = registry.get_type(contest.kind)
    arity = kind.value_count(contest.settings or {})
    result_form = result_form or ResultForm(formdata=None, data={"values": contest.result or [None] * arity})
    return render_template(
        "admin/contest_form.html", form=form, contest=contest, kind=kind,
        kind_name=contest.kind, kind_labels=registry.labels("contest"), status_labels=STATUS_LABELS, confirm=ConfirmForm(),
        questions=questions_of(db.session, contest.id), played=played, board=board, result_form=result_form,
        prize_kind_labels=PRIZE_KIND_LABELS, now=utcnow(),
        member_names=_names([r.member_id for r in board.top])), status


def _names(ids) -> dict:
    if not ids:
        return {}
    return dict(db.session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids))).all())


@bp.post("/contests/<int:contest_id>/publish", endpoint="publish_contest")
@staff_required("offers")
@commits
def publish_contest(contest_id: int):
    _contest(contest_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with refusal(only=(service.ContestInvalid, service.ContestWrongState), say=_publish_refusal):
        service.publish_contest(db.session, contest_id, actor=staff_actor(), now=utcnow())
        flash(_("Published: members can see the contest."), "success")
    return redirect(url_for(".contest", contest_id=contest_id))


def _publish_refusal(exc) -> str:
    problems = getattr(exc, "problems", {})
    return (_("Add at least one question first.") if "questions" in problems
            else _("The close has passed: move it before publishing.") if "closes_at" in problems
            else _("Only a draft can be published."))


@bp.post("/contests/<int:contest_id>/result", endpoint="contest_result")
@staff_required("offers")
@commits
def contest_result(contest_id: int):
    contest = _contest(contest_id)
    form = ResultForm()
    if form.validate_on_submit():
        with refusal(form, only=(service.ContestInvalid, service.ContestWrongState), fields=PROBLEM_FIELDS, say={
                service.ContestWrongState: _("The result can be entered after the deadline, until the contest is "
                                             "finalised.")}):
            service.enter_result(db.session, contest_id, tuple(v.data for v in form.values), actor=staff_actor(),
                                 now=utcnow())
            flash(_("The result is saved. The ranking and prizes follow within a minute."), "success")
            return redirect(url_for(".contest", contest_id=contest_id))
    form_data_ = form_data(contest, current_club().timezone, current_locale())
    return _contest_page(contest, _rewards(ContestForm.for_kind(contest.kind)(formdata=None, data=form_data_)),
                         status=422, result_form=form)


@bp.route("/contests/<int:contest_id>/questions/new", methods=["GET", "POST"], endpoint="new_contest_question")
@bp.route("/contests/<int:contest_id>/questions/<int:question_id>", methods=["GET", "POST"],
          endpoint="contest_question")
@staff_required("offers")
@commits
def contest_question(contest_id: int, question_id: int | None = None):
    contest = _contest(contest_id)
    if "questions" not in registry.get_type(contest.kind).staff_actions:
        abort(404)
    question = None
    if question_id is not None:
        question = next((q for q in questions_of(db.session, contest_id) if q.id == question_id), None)
        if question is None:
            abort(404)
    form = QuestionForm() if request.method == "POST" else QuestionForm(
        formdata=None, data=question_data(question) if question else None)
    if request.method == "POST" and form.validate_on_submit():
        image = None if form.remove_image.data else (question.image if question else None)
        new_file = store_image(form.image, "contests") if has_upload(form.image) else None
        if new_file is not None:
            image = new_file
        with refusal(form, only=(service.ContestInvalid, service.ContestLocked, service.ContestWrongState),
                     fields=PROBLEM_FIELDS, say={
                         (service.ContestLocked, service.ContestWrongState): _("Members have played: the questions "
                                                                               "are fixed.")}):
            if form.image.errors:
                raise service.ContestInvalid({})  # the picture's reason is already on its field
            service.save_question(db.session, contest_id, form.spec(image), actor=staff_actor(), now=utcnow(),
                                  question_id=question_id)
            flash(_("The question is saved."), "success")
            return redirect(url_for(".contest", contest_id=contest_id))
        discard_image(new_file, "contests")
    status = 422 if request.method == "POST" else 200
    return render_template("admin/contest_question.html", form=form, contest=contest, question=question), status
