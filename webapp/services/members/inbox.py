"""The member's in-app inbox (minimal: the communication issue grows it).

A message is a template `kind` plus JSON-safe `params`, worded in the member's
language when read. Every message has a unique `key` naming its cause, so a job
or request that runs twice posts it once."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import JSON, Select, func, literal, select, true, update
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates, inserted_count
from webapp.models import InboxMessage
from webapp.models.types import UTCDateTime

MAX_PAGE = 100
BATCH = 1000


def post_message(
    session: Session, *, member_id: int, kind: str, params: dict, key: str, now: datetime
) -> InboxMessage | None:
    """Post one message; None when a message with this key already exists."""
    json.dumps(params)  # refuse what the JSON column could not store, here and not at flush
    new_id = session.execute(
        insert_ignoring_duplicates(session, InboxMessage)
        .values(member_id=member_id, kind=kind, params=params, key=key, created_at=now)
        .on_conflict_do_nothing(index_elements=[InboxMessage.key])
        .returning(InboxMessage.id)
    ).scalar_one_or_none()
    return None if new_id is None else session.get(InboxMessage, new_id)


def post_messages(session: Session, rows: list[dict], *, now: datetime) -> int:
    """Post many messages ({member_id, kind, params, key}) in batches, skipping
    keys already there. Returns how many were new."""
    posted = 0
    for start in range(0, len(rows), BATCH):
        batch = [{**row, "created_at": now} for row in rows[start:start + BATCH]]
        posted += len(session.execute(
            insert_ignoring_duplicates(session, InboxMessage).values(batch)
            .on_conflict_do_nothing(index_elements=[InboxMessage.key])
            .returning(InboxMessage.id)
        ).all())
    return posted


def post_messages_from(
    session: Session, rows: Select, *, kind: str, params: dict, now: datetime
) -> int:
    """One message with the same `params` to every (member_id, key) row of the
    SELECT, in one INSERT … SELECT; keys already there are skipped."""
    json.dumps(params)
    source = rows.subquery()
    member_id, key = source.c
    return inserted_count(session,
        insert_ignoring_duplicates(session, InboxMessage).from_select(
            ["member_id", "kind", "params", "key", "created_at"],
            select(member_id, literal(kind), literal(params, JSON), key, literal(now, UTCDateTime))
            .where(true()))  # a WHERE lets SQLite parse ON CONFLICT after a SELECT
        .on_conflict_do_nothing(index_elements=[InboxMessage.key]))


def unread_count(session: Session, member_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(InboxMessage)
        .where(InboxMessage.member_id == member_id, InboxMessage.read_at.is_(None))
    ) or 0


def member_messages(
    session: Session, member_id: int, *, before_id: int | None = None, limit: int = 20
) -> list[InboxMessage]:
    """Newest first; pass the last id seen as `before_id` for the next page."""
    query = select(InboxMessage).where(InboxMessage.member_id == member_id)
    if before_id is not None:
        query = query.where(InboxMessage.id < before_id)
    limit = max(1, min(limit, MAX_PAGE))
    return list(session.scalars(query.order_by(InboxMessage.id.desc()).limit(limit)))


def mark_read(
    session: Session, *, member_id: int, message_ids: list[int] | None = None, now: datetime
) -> int:
    """Mark the member's unread messages (all, or those ids) read. Ids of other
    members' messages are ignored. Returns how many changed."""
    stmt = (
        update(InboxMessage)
        .where(InboxMessage.member_id == member_id, InboxMessage.read_at.is_(None))
        .values(read_at=now)
    )
    if message_ids is not None:
        ids = [i for i in message_ids if isinstance(i, int) and not isinstance(i, bool)]
        if not ids:
            return 0
        stmt = stmt.where(InboxMessage.id.in_(ids))
    return session.execute(stmt).rowcount
