"""Staff pages for broadcasts (under /admin/messages): the list, the editor for
drafts, and the broadcast page with its preview in both languages, its actions
(send now, schedule, cancel: each confirmed on a page of its own), the progress
while it is sent (htmx polling every 2 s) and the report. Owners and marketers
write; auditors read."""

from __future__ import annotations

from functools import wraps

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.admin import bp
from webapp.admin.broadcast_forms import (
    CHANNEL_LABELS,
    EVERYONE,
    HINT,
    OUTBOX_STATUS_LABELS,
    PROBLEM_WORDS,
    REASON_LABELS,
    STATUS_LABELS,
    BroadcastForm,
    form_data,
    show_problems,
)
from webapp.admin.common import staff_actor
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.htmx import wants_fragment
from webapp.jobs.broadcasts import enqueue_send
from webapp.models import Broadcast, Segment, utcnow
from webapp.services.errors import NotFound
from webapp.services.messages import broadcast_report
from webapp.services.messages import broadcasts as service
from webapp.transaction import after_commit, commits, refusal

PROGRESS_TARGET = "broadcast-progress"
READ = ("offers", "audit")  # owners and marketers write; auditors read
WRITE = ("offers",)


def staff_may(*capabilities: str):
    """Staff with any of `capabilities` (others: 403; not signed in: the sign-in page)."""

    def decorator(view):
        @staff_required("view")
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not any(current_user.can(c) for c in capabilities):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _words() -> dict:
    return {"statuses": STATUS_LABELS, "channel_labels": CHANNEL_LABELS, "outbox_statuses": OUTBOX_STATUS_LABELS,
            "reasons": REASON_LABELS, "may_write": any(current_user.can(c) for c in WRITE)}


def _broadcast_or_404(broadcast_id: int) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        abort(404)
    return broadcast


def _choices(form: BroadcastForm) -> None:
    segments = db.session.scalars(select(Segment).where(Segment.archived_at.is_(None)).order_by(Segment.name))
    form.segment.choices = [SelectChoice("", _("Choose…")), SelectChoice(EVERYONE, _("Every active member"))] + [
        SelectChoice(str(s.id), s.name) for s in segments]


@bp.get("/messages")
@staff_may(*READ)
def broadcasts():
    rows = service.broadcast_list(db.session)
    ids = {b.segment_id for b in rows if b.segment_id is not None}
    names = dict(db.session.execute(select(Segment.id, Segment.name).where(Segment.id.in_(ids))).all()) \
        if ids else {}
    return render_template("admin/broadcasts.html", broadcasts=rows, segment_names=names, **_words())


def _editor(form: BroadcastForm, broadcast: Broadcast | None, status: int = 200):
    return render_template("admin/broadcast_form.html", form=form, broadcast=broadcast, hint=HINT,
                           **_words()), status


@bp.route("/messages/new", methods=["GET", "POST"])
@staff_may(*WRITE)
@commits
def broadcast_new():
    form = BroadcastForm()
    _choices(form)
    if not form.validate_on_submit():
        return _editor(form, None, 422 if request.method == "POST" else 200)
    with refusal(form, only=(service.BroadcastInvalid,), show=show_problems):
        broadcast = service.create_broadcast(db.session, form.draft(), actor=staff_actor(), now=utcnow())
        flash(_("Broadcast saved as a draft. Check the preview, then send or schedule it."), "success")
        return redirect(url_for(".broadcast", broadcast_id=broadcast.id))
    return _editor(form, None, 422)


@bp.route("/messages/<int:broadcast_id>/edit", methods=["GET", "POST"])
@staff_may(*WRITE)
@commits
def broadcast_edit(broadcast_id: int):
    broadcast = _broadcast_or_404(broadcast_id)
    if broadcast.status != "draft":
        flash(_("Only a draft can be changed."), "error")
        return redirect(url_for(".broadcast", broadcast_id=broadcast.id))
    form = BroadcastForm(data=form_data(broadcast))
    _choices(form)
    if not form.validate_on_submit():
        return _editor(form, broadcast, 422 if request.method == "POST" else 200)
    with refusal(only=(service.BroadcastStateConflict,), say=_("Only a draft can be changed.")) as conflict, \
            refusal(form, only=(service.BroadcastInvalid,), show=show_problems):
        service.update_broadcast(db.session, broadcast.id, form.draft(), actor=staff_actor(), now=utcnow())
        flash(_("Broadcast saved."), "success")
        return redirect(url_for(".broadcast", broadcast_id=broadcast.id))
    if conflict:
        return redirect(url_for(".broadcast", broadcast_id=broadcast.id))
    return _editor(form, broadcast, 422)


def polling(broadcast: Broadcast) -> bool:
    """The page asks for progress only while there is work: due to start, or sending."""
    if broadcast.status == "scheduled":
        return broadcast.scheduled_at is not None and broadcast.scheduled_at <= utcnow()
    return broadcast.status == "sending"


def _previews(broadcast: Broadcast) -> dict:
    """The message in both languages as the audience's first member would get it."""
    member = service.sample_member(db.session, broadcast.segment_id, utcnow())
    previews = {}
    for locale in service.LOCALES:
        try:
            previews[locale] = service.preview(broadcast, member, current_app.config, locale)
        except Exception as exc:  # a filter misused on a value: show why, never a 500
            previews[locale] = str(exc)
    return {"previews": previews, "sample": member}


@bp.get("/messages/<int:broadcast_id>")
@staff_may(*READ)
def broadcast(broadcast_id: int):
    broadcast = _broadcast_or_404(broadcast_id)
    context = {"broadcast": broadcast, "polling": polling(broadcast), **_words(),
               "figures": broadcast_report.channel_figures(db.session, broadcast) if broadcast.started_at else []}
    if wants_fragment(PROGRESS_TARGET):
        response = make_response(render_template("admin/_broadcast_progress.html", **context))
        if not context["polling"]:
            response.headers["HX-Refresh"] = "true"  # finished: reload for the report and actions
        return response
    context.update(
        segment=db.session.get(Segment, broadcast.segment_id) if broadcast.segment_id else None,
        split=service.audience_split(db.session, broadcast.segment_id, broadcast.holdout_percent, utcnow())
        if broadcast.status in ("draft", "scheduled") else None,
        report=broadcast_report.broadcast_report(db.session, broadcast) if broadcast.started_at else None,
        **(_previews(broadcast) if broadcast.status in ("draft", "scheduled") else {}),
    )
    return render_template("admin/broadcast.html", **context)


ACTIONS = {
    "send": (service.schedule_broadcast, {"send_now": True}),
    "schedule": (service.schedule_broadcast, {}),
    "cancel": (service.cancel_broadcast, {}),
}


@bp.get("/messages/<int:broadcast_id>/<any(send, schedule, cancel):action>")
@staff_may(*WRITE)
def broadcast_confirm(broadcast_id: int, action: str):
    broadcast = _broadcast_or_404(broadcast_id)
    split = service.audience_split(db.session, broadcast.segment_id, broadcast.holdout_percent, utcnow())
    return render_template("admin/broadcast_confirm.html", broadcast=broadcast, action=action, split=split,
                           form=ConfirmForm(), **_words())


@bp.post("/messages/<int:broadcast_id>/<any(send, schedule, cancel):action>")
@staff_may(*WRITE)
@commits
def broadcast_act(broadcast_id: int, action: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    run, options = ACTIONS[action]
    with refusal(only=(service.BroadcastInvalid,), say=_invalid_words), \
            refusal(only=(service.BroadcastStateConflict,), say=_conflict_words):
        try:
            run(db.session, broadcast_id, actor=staff_actor(), now=utcnow(), **options)
        except NotFound:
            abort(404)
        if action == "send":
            after_commit(lambda: enqueue_send(broadcast_id))
        flash({"send": _("Sending now: progress shows below."),
               "schedule": _("Scheduled: the broadcast goes out by itself at its time."),
               "cancel": _("Broadcast cancelled.")}[action], "success")
    return redirect(url_for(".broadcast", broadcast_id=broadcast_id)), 303


def _conflict_words(exc: service.BroadcastStateConflict) -> str:
    status = exc.details.get("status")
    return _("The broadcast is %(status)s now; that is no longer possible.",
             status=STATUS_LABELS.get(status, status))


def _invalid_words(exc: service.BroadcastInvalid) -> str:
    """Why the broadcast cannot go out (what the editor would say on its fields)."""
    return " ".join(str(PROBLEM_WORDS[code]) % exc.params.get(name, {}) if code in PROBLEM_WORDS else code
                    for name, code in exc.problems.items())
