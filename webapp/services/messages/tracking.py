"""What members do with a message after it left: opened it (the e-mail's pixel),
followed its link (the click redirect), or asked for no more of its kind (the
unsubscribe link). Each arrives through a signed link (`links`), so the id it
names is ours; each is noted once, however often the link is used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.models import Member, OutboxMessage
from webapp.services.messages.policy import CONSENT


def record_open(session: Session, outbox_id: int, *, now: datetime) -> bool:
    """Note the first open; True when this was it."""
    return session.execute(
        update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.opened_at.is_(None))
        .values(opened_at=now)).rowcount == 1


def record_click(session: Session, outbox_id: int, *, now: datetime) -> bool:
    """Note the first click (a click is an open too); True when this was it."""
    record_open(session, outbox_id, now=now)
    return session.execute(
        update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.clicked_at.is_(None))
        .values(clicked_at=now)).rowcount == 1


def subscriber(session: Session, member_id: int, channel: str) -> Member | None:
    """The member an unsubscribe link speaks for, when it still has one."""
    if channel not in CONSENT:
        return None
    return session.get(Member, member_id)


def unsubscribe(member: Member, channel: str) -> bool:
    """Withdraw the member's consent to news and offers on `channel` (the same
    switch as on their settings page); True when it was on."""
    was_on = bool(getattr(member, CONSENT[channel]))
    setattr(member, CONSENT[channel], False)
    return was_on
