"""The outbox as staff see it (`/admin/outbox`): deliveries newest first, filtered
and paged by id (keyset: the page after id N is `id < N`, as fast on page 500 as
on page 1), and a failed delivery sent back to the workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Member, OutboxMessage
from webapp.services.errors import Conflict, NotFound
from webapp.services.members import audit

MAX_PAGE = 100
RETRYABLE = ("failed",)


class DeliveryStateConflict(Conflict):
    """Only a failed delivery can be tried again."""

    code = "delivery_state"


@dataclass(frozen=True)
class DeliveryFilter:
    channel: str | None = None
    status: str | None = None
    kind: str | None = None
    member: str | None = None  # a member id, or an e-mail address
    broadcast_id: int | None = None


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[tuple[OutboxMessage, Member]]
    next_before: int | None  # the id to page on from, None on the last page


def _member_condition(text: str):
    text = text.strip()
    if text.isdigit():
        return OutboxMessage.member_id == int(text)
    return Member.email == text.lower()


def deliveries(session: Session, wanted: DeliveryFilter, *, before_id: int | None = None,
               limit: int = 50) -> DeliveryPage:
    """One page of deliveries (with their members: one query), newest first."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(OutboxMessage, Member).join(Member, Member.id == OutboxMessage.member_id)
    for column, value in ((OutboxMessage.channel, wanted.channel), (OutboxMessage.status, wanted.status),
                          (OutboxMessage.kind, wanted.kind), (OutboxMessage.broadcast_id, wanted.broadcast_id)):
        if value is not None and value != "":
            query = query.where(column == value)
    if wanted.member:
        query = query.where(_member_condition(wanted.member))
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    rows = [(row, member) for row, member in session.execute(
        query.order_by(OutboxMessage.id.desc()).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return DeliveryPage(rows, rows[-1][0].id if more else None)


def retry_delivery(session: Session, outbox_id: int, *, actor: audit.Actor, now: datetime) -> OutboxMessage:
    """A failed delivery goes back to pending, due now, with its attempts counted
    afresh; the caller wakes a worker after committing."""
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == outbox_id).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFound("Delivery not found.", outbox_id=outbox_id)
    if row.status not in RETRYABLE:
        raise DeliveryStateConflict(f"The delivery is {row.status}.", status=row.status)
    before = {"status": row.status, "reason": row.reason, "error": row.error, "attempts": row.attempts}
    row.status, row.next_attempt_at, row.claimed_until, row.attempts = "pending", now, None, 0
    row.reason = "retry_by_staff"
    session.flush()
    audit.record(session, actor, "outbox.retry", "outbox_message", row.id, now=now, before=before,
                 after={"status": row.status, "channel": row.channel, "member_id": row.member_id})
    return row
