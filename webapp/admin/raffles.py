"""Staff pages for raffles (under /admin): the list, a form to define one
(draft) or edit it (prizes, price, cap and times are fixed once published),
and the buttons: publish (the seed is drawn and committed to), enter the public
value, draw now, cancel (refunds). Every write goes through `services.raffles`,
which audits it; the draw job is enqueued only after the commit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.admin import bp
from webapp.admin.common import eligibility_choices, staff_actor
from webapp.admin.raffle_forms import (
    PRIZE_KIND_LABELS,
    STATUS_LABELS,
    CancelForm,
    PublicValueForm,
    RaffleForm,
    form_data,
)
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale
from webapp.jobs.raffles import enqueue_draw
from webapp.models import Raffle, utcnow
from webapp.services.play import raffles as service
from webapp.services.play import registry
from webapp.transaction import after_commit, commits, refusal

TEMPLATES = registry.get("raffle").templates  # the kind's registry entry names its pages

MAX_ID = 2**31 - 1
LOCKED_INPUTS = ("ticket_price", "max_tickets_per_member", "closes_on", "closes_time", "draw_on", "draw_time",
                 "alternates", "public_value_source")
PROBLEM_FIELDS = {"name": "name_en", "ticket_price": "ticket_price", "max_tickets_per_member": "max_tickets_per_member",
                  "alternates": "alternates", "closes_at": "closes_on", "draw_at": "draw_time",
                  "public_value_source": "public_value_source", "min_tier_id": "min_tier", "segment_id": "segment"}
LOCKED_WORDS = _l("The raffle is published: its prizes, price, cap, times, alternates and public value source are "
                  "fixed. Your changes were not saved.")




def _raffle(raffle_id: int) -> Raffle:
    raffle = db.session.get(Raffle, raffle_id) if raffle_id <= MAX_ID else None
    if raffle is None:
        abort(404)
    return raffle


@bp.get("/raffles", endpoint="raffles")
@staff_required("offers")
def raffles_list():
    rows = list(db.session.scalars(select(Raffle).order_by(Raffle.id.desc())))
    stats = service.raffle_stats(db.session, [r.id for r in rows])
    return render_template(TEMPLATES["staff_list"], rows=rows, stats=stats, status_labels=STATUS_LABELS)


@bp.route("/raffles/new", methods=["GET", "POST"])
@staff_required("offers")
@commits
def new_raffle():
    form = eligibility_choices(RaffleForm())
    if form.validate_on_submit():
        with refusal(form, only=(service.RaffleInvalid,), fields=_problem_field(form)):
            raffle = service.create_raffle(db.session, form.spec(current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The raffle is saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for(".raffle", raffle_id=raffle.id))
    status = 422 if request.method == "POST" else 200
    return render_template(TEMPLATES["editor"], form=form, raffle=None, kind_labels=PRIZE_KIND_LABELS), status


@bp.route("/raffles/<int:raffle_id>", methods=["GET", "POST"])
@staff_required("offers")
@commits
def raffle(raffle_id: int):
    raffle = _raffle(raffle_id)
    saved = form_data(db.session, raffle, current_club().timezone, current_locale())
    if request.method == "POST":
        form = eligibility_choices(RaffleForm(formdata=_with_locked(saved) if raffle.status != "draft" else None))
    else:
        form = eligibility_choices(RaffleForm(formdata=None, data=saved))
    if request.method == "POST" and form.validate_on_submit():
        with refusal(form, only=(service.RaffleInvalid, service.RaffleLocked, service.RaffleWrongStatus),
                     fields=_problem_field(form), say={
                         service.RaffleLocked: LOCKED_WORDS,
                         service.RaffleWrongStatus: _("Only a draft or open raffle can be edited.")}):
            service.update_raffle(db.session, raffle_id, form.spec(current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The raffle is saved."), "success")
            return redirect(url_for(".raffle", raffle_id=raffle_id))
    status = 422 if request.method == "POST" else 200
    stats = service.raffle_stats(db.session, [raffle_id]).get(raffle_id, service.RaffleStats())
    return render_template(
        TEMPLATES["editor"], form=form, raffle=raffle, stats=stats, confirm=ConfirmForm(),
        value_form=PublicValueForm(formdata=None), cancel_form=CancelForm(formdata=None),
        status_labels=STATUS_LABELS, kind_labels=PRIZE_KIND_LABELS, now=utcnow(),
        drawn=service.winners(db.session, raffle_id), prizes=service.prizes_of(db.session, raffle_id),
        locked=raffle.status != "draft"), status


def _with_locked(saved: dict) -> MultiDict:
    """The posted form with the fixed fields put back to what is saved: the page
    shows them disabled (browsers do not send those), and a crafted post cannot
    change them either."""
    shown = eligibility_choices(RaffleForm(formdata=None, data=saved, meta={"csrf": False}))
    posted = request.form.copy()
    for name in LOCKED_INPUTS:
        posted.setlist(name, [shown[name]._value()])
    for row in shown.prizes:
        for sub in row.form:
            posted.setlist(sub.name, [sub._value() if hasattr(sub, "_value") else str(sub.data or "")])
    return posted


@bp.post("/raffles/<int:raffle_id>/publish")
@staff_required("offers")
@commits
def publish_raffle(raffle_id: int):
    return _change(raffle_id, ConfirmForm(), lambda: service.publish_raffle(
        db.session, raffle_id, actor=staff_actor(), now=utcnow()),
        _("The raffle is open. Its commitment is published; the seed stays secret until the draw."))


@bp.post("/raffles/<int:raffle_id>/public-value")
@staff_required("offers")
@commits
def raffle_public_value(raffle_id: int):
    form = PublicValueForm()
    return _change(raffle_id, form, lambda: service.set_public_value(
        db.session, raffle_id, form.public_value.data, actor=staff_actor(), now=utcnow()),
        _("The public value is saved. The draw can run."))


@bp.post("/raffles/<int:raffle_id>/draw")
@staff_required("offers")
@commits
def draw_raffle(raffle_id: int):
    done = _change(raffle_id, ConfirmForm(), lambda: service.request_draw(
        db.session, raffle_id, actor=staff_actor(), now=utcnow()),
        _("The draw is on its way; refresh in a moment to see the winners."))
    if db.session.get(Raffle, raffle_id).draw_requested_at is not None:
        after_commit(lambda: enqueue_draw(raffle_id))
    return done


@bp.post("/raffles/<int:raffle_id>/cancel")
@staff_required("offers")
@commits
def cancel_raffle(raffle_id: int):
    form = CancelForm()
    return _change(raffle_id, form, lambda: service.cancel_raffle(
        db.session, raffle_id, actor=staff_actor(), now=utcnow(), reason=form.reason.data or None),
        _("The raffle is cancelled and every bought ticket refunded."))


def _change(raffle_id: int, form, change, done: str):
    _raffle(raffle_id)
    if not form.validate_on_submit():
        flash(_("Check what you entered and try again."), "error")
        return redirect(url_for(".raffle", raffle_id=raffle_id))
    with refusal(only=(service.RaffleWrongStatus, service.RaffleInvalid), say={
            service.RaffleWrongStatus: _status_refusal,
            service.RaffleInvalid: _("Check what you entered and try again.")}):
        change()
        flash(done, "success")
    return redirect(url_for(".raffle", raffle_id=raffle_id))


def _status_refusal(exc: service.RaffleWrongStatus) -> str:
    reason = exc.details.get("reason")
    if reason == "closes_at":
        return _("The close time has passed: change it before publishing.")
    if reason == "timing":
        return _("This can only be done after the close and before the draw.")
    if reason == "public_value":
        return _("Enter the public value first.")
    if reason == "entered":
        return _("The public value is already entered.")
    if reason == "none":
        return _("This raffle named no public value.")
    return _("The raffle is not in a state that allows this.")


def _problem_field(form: RaffleForm):
    """A problem's field on the form; None (above the form) for the prizes."""
    return lambda problem: getattr(form, PROBLEM_FIELDS.get(problem.field, ""), None)
