"""Staff page for the outbox (`/admin/outbox`): every delivery with its status,
reason, error, attempts and next attempt, filtered by channel, status, kind,
member (id or e-mail) or broadcast, newest first and paged by id. Owners and
operators can send a failed delivery back to the workers; auditors read."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.admin import bp
from webapp.admin.broadcast_forms import CHANNEL_LABELS, OUTBOX_STATUS_LABELS, REASON_LABELS
from webapp.admin.broadcasts import staff_may
from webapp.admin.common import staff_actor
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.htmx import page_or_fragment
from webapp.jobs.messages import wake
from webapp.models import CHANNELS, OUTBOX_STATUSES, utcnow
from webapp.services.errors import NotFound
from webapp.services.messages import deliveries as service
from webapp.services.messages.catalog import KINDS
from webapp.transaction import after_commit, commits, refusal

READ = ("adjust", "audit")  # owners and operators act; auditors read
RETRY = ("adjust",)
MAX_ID = 2**63 - 1
PAGE = 50


def _int(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def _filter() -> service.DeliveryFilter:
    def choice(name: str, allowed) -> str | None:
        value = request.args.get(name) or None
        return value if value in allowed else None

    member = (request.args.get("member") or "").strip()[:254] or None
    return service.DeliveryFilter(channel=choice("channel", CHANNELS), status=choice("status", OUTBOX_STATUSES),
                                  kind=choice("kind", KINDS), member=member, broadcast_id=_int("broadcast"))


@bp.get("/outbox")
@staff_may(*READ)
def outbox():
    wanted = _filter()
    page = service.deliveries(db.session, wanted, before_id=_int("before"), limit=PAGE)
    args = {k: v for k, v in {"channel": wanted.channel, "status": wanted.status, "kind": wanted.kind,
                              "member": wanted.member, "broadcast": wanted.broadcast_id}.items() if v}
    return page_or_fragment(
        "admin/outbox.html", "deliveries", target="deliveries", page=page, wanted=wanted, args=args,
        channels=CHANNELS, statuses=OUTBOX_STATUSES, kinds=sorted(KINDS), channel_labels=CHANNEL_LABELS,
        outbox_statuses=OUTBOX_STATUS_LABELS, reasons=REASON_LABELS, form=ConfirmForm(),
        may_retry=any(current_user.can(c) for c in RETRY))


@bp.post("/outbox/<int:outbox_id>/retry")
@staff_may(*RETRY)
@commits
def outbox_retry(outbox_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with refusal(only=(service.DeliveryStateConflict,), say=_("Only a failed delivery can be tried again.")):
        try:
            service.retry_delivery(db.session, outbox_id, actor=staff_actor(), now=utcnow())
        except NotFound:
            abort(404)
        after_commit(wake)
        flash(_("The delivery is queued again."), "success")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/admin/outbox") else url_for(".outbox")), 303
