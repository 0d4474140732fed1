"""Sending a broadcast (run by `webapp.jobs.broadcasts`), set-based throughout:
the audience is frozen into `broadcast_member` by one INSERT … SELECT, the
hold-out drawn by one UPDATE over a random sample of it, and the outbox rows
written by one INSERT … SELECT per channel (`messages.notify_from`), so no
member id passes through Python. All in the caller's transaction: a job killed
before its commit leaves the broadcast scheduled, and the next run starts over;
one that ran leaves it `sending`, and a second run writes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, cast, exists, func, literal, select, true, update
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import Broadcast, BroadcastMember, OutboxMessage
from webapp.services import messages
from webapp.services.messages.broadcasts import KIND, locked, message_params
from webapp.services.offers import segments
from webapp.services.offers.campaigns import held_out_count

UNFINISHED = ("pending", "sending")


def due_broadcast_ids(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Broadcast.id).where(
        Broadcast.status == "scheduled", Broadcast.scheduled_at <= now).order_by(Broadcast.id)))


def member_key(broadcast_id: int):
    """The cause key of one member's message (the inbox wants it unique per member)."""
    return literal(f"broadcast:{broadcast_id}:member:") + cast(BroadcastMember.member_id, String)


def begin_sending(session: Session, broadcast_id: int, *, now: datetime) -> Broadcast | None:
    """Scheduled and due → sending: freeze the audience, hold out a random
    `holdout_percent` of it, and write every messaged member's outbox rows.
    Returns the broadcast when this call sent it; None when it is not due, or
    was already sent (nothing is written twice)."""
    broadcast = locked(session, broadcast_id)
    if broadcast.status != "scheduled" or broadcast.scheduled_at is None or broadcast.scheduled_at > now:
        return None
    members = freeze_audience(session, broadcast, now)
    held_out = draw_hold_out(session, broadcast.id, held_out_count(members, broadcast.holdout_percent))
    write_messages(session, broadcast, now)
    broadcast.targeted, broadcast.held_out = members - held_out, held_out
    broadcast.status, broadcast.started_at = "sending", now
    session.flush()
    finish_delivered(session, now, broadcast_id=broadcast.id)
    return broadcast


def freeze_audience(session: Session, broadcast: Broadcast, now: datetime) -> int:
    audience = segments.audience(session, broadcast.segment_id, now).subquery()
    session.execute(
        insert_ignoring_duplicates(session, BroadcastMember).from_select(
            ["broadcast_id", "member_id", "held_out"],
            select(literal(broadcast.id), audience.c[0], literal(False))
            .where(true()))  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
        .on_conflict_do_nothing(index_elements=["broadcast_id", "member_id"]))
    return int(session.scalar(select(func.count()).select_from(BroadcastMember)
                              .where(BroadcastMember.broadcast_id == broadcast.id)) or 0)


def draw_hold_out(session: Session, broadcast_id: int, size: int) -> int:
    """Mark `size` members of the frozen audience, drawn uniformly at random by
    the database, as held out (campaigns draw from a seed in Python; a broadcast
    to the whole club keeps its ids in the database). Returns how many."""
    if size <= 0:
        return 0
    mine = BroadcastMember.broadcast_id == broadcast_id
    sample = select(BroadcastMember.member_id).where(mine).order_by(func.random()).limit(size)
    return session.execute(update(BroadcastMember).where(mine, BroadcastMember.member_id.in_(sample))
                           .values(held_out=True).execution_options(synchronize_session=False)).rowcount


def messaged_members(broadcast_id: int):
    """SELECT (member_id, key) of the members the broadcast messages."""
    return select(BroadcastMember.member_id, member_key(broadcast_id)).where(
        BroadcastMember.broadcast_id == broadcast_id, BroadcastMember.held_out.is_(False))


def write_messages(session: Session, broadcast: Broadcast, now: datetime) -> int:
    """The outbox rows of every messaged member on every chosen channel; rows
    already written are skipped. Returns the new rows of the first channel."""
    return messages.notify_from(session, messaged_members(broadcast.id), kind=KIND,
                                params=message_params(broadcast), now=now,
                                channels=tuple(broadcast.channels or ()), broadcast_id=broadcast.id)


def finish_delivered(session: Session, now: datetime, *, broadcast_id: int | None = None) -> int:
    """Sending → sent once none of its outbox rows waits for a worker any more."""
    waiting = exists().where(OutboxMessage.broadcast_id == Broadcast.id,
                             OutboxMessage.status.in_(UNFINISHED))
    condition = and_(Broadcast.status == "sending", ~waiting)
    if broadcast_id is not None:
        condition = and_(condition, Broadcast.id == broadcast_id)
    return session.execute(update(Broadcast).where(condition).values(status="sent", finished_at=now)
                           .execution_options(synchronize_session="fetch")).rowcount
