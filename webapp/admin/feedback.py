"""Staff pages for members' feedback (under /admin/feedback): the threads with
status and assignment filters and a count per status, and a thread with its
conversation (internal notes marked as such), where owners and operators reply,
note, assign and change the status. Marketers and auditors read. Every write
goes through `services.feedback`, which records it in the audit log. Pictures
are served only through the staff route here, never publicly."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from webapp.admin import bp, queries
from webapp.admin.common import staff_actor
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.models import FEEDBACK_STATUSES, Member, Staff, utcnow
from webapp.services import feedback
from webapp.services.errors import NotFound
from webapp.services.feedback import staff as service
from webapp.services.feedback.threads import MAX_BODY
from webapp.transaction import commits, refusal
from webapp.uploads import send_picture

STATUS_LABELS = {"new": _l("New"), "open": _l("Open"), "answered": _l("Answered"), "closed": _l("Closed")}
CATEGORY_LABELS = {"question": _l("Question"), "suggestion": _l("Suggestion"), "complaint": _l("Complaint"),
                   "survey": _l("Survey follow-up")}
ASSIGNMENT_LABELS = {"": _l("Everyone's"), "mine": _l("Mine"), "unassigned": _l("Unassigned")}
NOBODY = ""
TEXT = [DataRequired(_l("Write something first.")), Length(max=MAX_BODY)]


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply to the member"), validators=TEXT)


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (only staff see it)"), validators=TEXT)


class AssignForm(FlaskForm):
    staff = SelectField(_l("Assigned to"), validators=[Length(max=12)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), validators=[InputRequired()],
                         choices=[SelectChoice(s, STATUS_LABELS[s]) for s in FEEDBACK_STATUSES])


@dataclass
class Forms:
    reply: ReplyForm
    note: NoteForm
    assign: AssignForm
    status: StatusForm


def _assignable(form: AssignForm) -> None:
    form.staff.choices = [SelectChoice(NOBODY, _("Nobody"))] + [
        SelectChoice(str(s.id), s.name) for s in service.assignable_staff(db.session)]


def _forms(thread, **given) -> Forms:
    forms = Forms(reply=given.get("reply") or ReplyForm(formdata=None, prefix="reply"),
                  note=given.get("note") or NoteForm(formdata=None, prefix="note"),
                  assign=given.get("assign") or AssignForm(formdata=None),
                  status=given.get("status") or StatusForm(formdata=None, status=thread.status))
    _assignable(forms.assign)
    if "assign" not in given:
        forms.assign.staff.data = str(thread.assigned_staff_id or NOBODY)
    return forms


def _thread_or_404(thread_id: int):
    if thread_id > queries._INT32:
        abort(404)
    try:
        return service.staff_thread(db.session, thread_id)
    except NotFound:
        abort(404)


@bp.get("/feedback")
@staff_required("view")
def feedback_threads():
    status = request.args.get("status") if request.args.get("status") in FEEDBACK_STATUSES else None
    assigned = request.args.get("assigned") if request.args.get("assigned") in service.ASSIGNMENTS else None
    page = queries.page_number(request.args.get("page"))
    rows, more = service.staff_threads(db.session, status=status, assigned=assigned, staff_id=current_user.id,
                                       page=page)
    counts = service.status_counts(db.session, assigned=assigned, staff_id=current_user.id)
    return render_template("admin/feedback.html", rows=rows, more=more, page=page, status=status,
                           assigned=assigned or "", counts=counts, statuses=STATUS_LABELS,
                           categories=CATEGORY_LABELS, assignments=ASSIGNMENT_LABELS)


def _thread_page(thread, code: int = 200, **forms):
    posts = service.staff_posts(db.session, thread)
    ids = {p.staff_id for p in posts if p.staff_id} | ({thread.assigned_staff_id} - {None})
    names = {s.id: s.name for s in db.session.scalars(select(Staff).where(Staff.id.in_(ids)))} if ids else {}
    return render_template(
        "admin/feedback_thread.html", thread=thread, posts=posts, member=db.session.get(Member, thread.member_id),
        staff_names=names, forms=_forms(thread, **forms), can_write=current_user.can(service.WRITE_CAPABILITY),
        statuses=STATUS_LABELS, categories=CATEGORY_LABELS), code


@bp.get("/feedback/<int:thread_id>")
@staff_required("view")
def feedback_thread(thread_id: int):
    return _thread_page(_thread_or_404(thread_id))


STATUS_REFUSED = _l("The conversation cannot move to that status from where it is now.")


def _write(thread_id: int, form, name: str, act, done: str):
    """One staff write from one form: the service call, then back to the thread."""
    thread = _thread_or_404(thread_id)
    if form.validate_on_submit():
        with refusal(form, fields={"staff_id": "staff", "status": "status", "body": "body"},
                     say={feedback.StatusConflict: STATUS_REFUSED}):
            act(thread)
            flash(done, "success")
            return redirect(url_for(".feedback_thread", thread_id=thread_id))
        thread = _thread_or_404(thread_id)
    return _thread_page(thread, 422, **{name: form})


@bp.post("/feedback/<int:thread_id>/reply")
@staff_required(service.WRITE_CAPABILITY)
@commits
def feedback_reply(thread_id: int):
    form = ReplyForm(prefix="reply")
    return _write(thread_id, form, "reply", lambda t: feedback.staff_reply(
        db.session, thread_id=t.id, body=form.body.data, actor=staff_actor(), now=utcnow()),
        _("Your reply is sent to the member."))


@bp.post("/feedback/<int:thread_id>/note")
@staff_required(service.WRITE_CAPABILITY)
@commits
def feedback_note(thread_id: int):
    form = NoteForm(prefix="note")
    return _write(thread_id, form, "note", lambda t: feedback.add_note(
        db.session, thread_id=t.id, body=form.body.data, actor=staff_actor(), now=utcnow()),
        _("The note is saved. The member does not see it."))


@bp.post("/feedback/<int:thread_id>/assign")
@staff_required(service.WRITE_CAPABILITY)
@commits
def feedback_assign(thread_id: int):
    form = AssignForm()
    _assignable(form)
    return _write(thread_id, form, "assign", lambda t: feedback.assign(
        db.session, thread_id=t.id, staff_id=int(form.staff.data) if form.staff.data else None,
        actor=staff_actor(), now=utcnow()), _("The assignment is saved."))


@bp.post("/feedback/<int:thread_id>/status")
@staff_required(service.WRITE_CAPABILITY)
@commits
def feedback_status(thread_id: int):
    form = StatusForm()
    return _write(thread_id, form, "status", lambda t: feedback.set_status(
        db.session, thread_id=t.id, status=form.status.data, actor=staff_actor(), now=utcnow()),
        _("The status is saved."))


@bp.get("/feedback/<int:thread_id>/pictures/<int:post_id>")
@staff_required("view")
def feedback_picture(thread_id: int, post_id: int):
    if max(thread_id, post_id) > queries._INT32:
        abort(404)
    try:
        name = service.staff_picture(db.session, post_id=post_id)
    except NotFound:
        abort(404)
    return send_picture("feedback", name, private=True)
