"""Writing messages: one outbox row per (member, channel, cause key), in the
caller's transaction, never committed here. Inbox rows are written at once
(the inbox is a table beside the outbox); the other channels wait for a worker,
which is woken once the transaction commits (`wake_after_commit`)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import JSON, Select, literal, select, true
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates, inserted_count
from webapp.models import OutboxMessage
from webapp.models.types import UTCDateTime
from webapp.services.members import inbox
from webapp.services.messages.catalog import channels_for, kind_of

BATCH = 1000
WAKE = "vafa_outbox_wake"
_CONFLICT = ["member_id", "channel", "key"]
_TABLE = OutboxMessage.__table__


def notify(session: Session, *, member_id: int, kind: str, params: dict, key: str, now: datetime,
           channels: tuple[str, ...] | None = None, address: str | None = None) -> int:
    """Tell one member about `key`. `address` sends to that address rather than
    the member's own (a code to the mobile just typed). Returns 1 when the
    message is new, 0 when this key was already written."""
    return notify_many(session, [{"member_id": member_id, "kind": kind, "params": params, "key": key,
                                  "address": address}], now=now, channels=channels)


def notify_many(session: Session, rows: list[dict], *, now: datetime,
                channels: tuple[str, ...] | None = None) -> int:
    """Many messages ({member_id, kind, params, key[, address]}), in batches;
    keys already written are skipped. Returns how many members were newly told
    (new rows on each kind's first channel)."""
    told = 0
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        json.dumps(row["params"])  # refuse what the JSON column could not store, here
        by_kind.setdefault(row["kind"], []).append(row)
    for kind, group in by_kind.items():
        routes = channels if channels is not None else channels_for(session, kind)
        for position, channel in enumerate(routes):
            written = _write(session, kind, channel, group, now)
            told += written if position == 0 else 0
    return told


def _write(session: Session, kind: str, channel: str, rows: list[dict], now: datetime) -> int:
    category = kind_of(kind).category
    status = "sent" if channel == "inbox" else "pending"
    written = 0
    for start in range(0, len(rows), BATCH):
        batch = [
            {"member_id": r["member_id"], "channel": channel, "kind": kind, "category": category,
             "key": r["key"], "params": r["params"], "address": r.get("address"),
             "broadcast_id": r.get("broadcast_id"), "status": status, "attempts": 0,
             "next_attempt_at": now, "created_at": now, "sent_at": now if channel == "inbox" else None}
            for r in rows[start:start + BATCH]
        ]
        # executemany on the table: one INSERT per batch all the same, and its
        # compiled form is cached (a multi-row .values() is compiled every time)
        new = session.execute(
            insert_ignoring_duplicates(session, _TABLE)
            .on_conflict_do_nothing(index_elements=_CONFLICT)
            .returning(_TABLE.c.member_id, _TABLE.c.key),
            batch,
        ).all()
        written += len(new)
        if new and channel == "inbox":
            fresh = {(m, k) for m, k in new}
            inbox.post_messages(session, [
                {"member_id": r["member_id"], "kind": kind, "params": r["params"], "key": r["key"]}
                for r in rows[start:start + BATCH] if (r["member_id"], r["key"]) in fresh], now=now)
    if written and channel != "inbox":
        session.info[WAKE] = True
    return written


def notify_from(session: Session, rows: Select, *, kind: str, params: dict, now: datetime,
                channels: tuple[str, ...] | None = None, broadcast_id: int | None = None) -> int:
    """One message with the same `params` to every (member_id, key) row of the
    SELECT, one INSERT … SELECT per channel: a broadcast to 100,000 members never
    passes their ids through Python. Returns the new rows of the first channel."""
    json.dumps(params)
    routes = channels if channels is not None else channels_for(session, kind)
    category = kind_of(kind).category
    told = 0
    for position, channel in enumerate(routes):
        source = rows.subquery()
        member_id, key = source.c
        status = "sent" if channel == "inbox" else "pending"
        sent_at = literal(now, UTCDateTime) if channel == "inbox" else literal(None, UTCDateTime)
        written = inserted_count(session,
            insert_ignoring_duplicates(session, OutboxMessage).from_select(
                ["member_id", "channel", "kind", "category", "key", "params", "broadcast_id", "status",
                 "attempts", "next_attempt_at", "created_at", "sent_at"],
                select(member_id, literal(channel), literal(kind), literal(category), key,
                       literal(params, JSON), literal(broadcast_id), literal(status), literal(0),
                       literal(now, UTCDateTime), literal(now, UTCDateTime), sent_at)
                .where(true()))  # a WHERE lets SQLite parse ON CONFLICT after a SELECT
            .on_conflict_do_nothing(index_elements=_CONFLICT))
        if channel == "inbox":
            inbox.post_messages_from(session, rows, kind=kind, params=params, now=now)
        elif written:
            session.info[WAKE] = True
        told += written if position == 0 else 0
    return told
