"""Delivering the outbox (run by the RQ worker, `webapp.jobs.messages`).

A worker claims due rows (`sending`, with a lease), then sends them one by one
and records each outcome in its own commit, so a worker killed mid-batch leaves
every row sent (and marked) or still claimable once its lease runs out. The
provider is told our row id, so a retry after such a kill can be recognised.
Failures that may pass are retried with exponential backoff; the rest fail
with the provider's reason; rules that forbid sending suppress with theirs."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from webapp.models import Member, OutboxMessage
from webapp.services.messages import policy
from webapp.services.messages.catalog import kind_of
from webapp.services.messages.channels import ADDRESS, Refused, Retry, Sender
from webapp.services.messages.channels.sms import count_segments
from webapp.services.messages.render import member_locale, render
from webapp.services.messages.templates import template_for

log = logging.getLogger("vafa.messages")
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
FIRST_RETRY = 30  # seconds; doubles each attempt
LAST_RETRY = 3600
SENT = ("sent", "delivered")


def claim(session: Session, *, now: datetime, limit: int = 200, lease: timedelta = LEASE) -> list[int]:
    """Take up to `limit` due rows (pending and due, or claimed by a worker whose
    lease ran out) for this worker; the caller commits. Concurrent workers skip
    each other's rows (PostgreSQL SKIP LOCKED; SQLite has one writer at a time)."""
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )
    ids = list(session.scalars(
        select(OutboxMessage.id).where(due, OutboxMessage.channel != "inbox")
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(
            status="sending", claimed_until=now + lease, attempts=OutboxMessage.attempts + 1))
    return ids


def release(session: Session, ids: list[int]) -> int:
    """Hand back claimed rows not yet worked on (still `sending`): due again at
    once, the claim not counted as an attempt."""
    return session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
        .values(status="pending", claimed_until=None, attempts=OutboxMessage.attempts - 1)
    ).rowcount


def claimed_rows(session: Session, ids: list[int]) -> list[tuple[OutboxMessage, Member]]:
    return [(row, member) for row, member in session.execute(
        select(OutboxMessage, Member).join(Member, Member.id == OutboxMessage.member_id)
        .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id))]


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: 30 s doubling to an hour, ±10 %."""
    base = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)
    return base * random.uniform(0.9, 1.1)  # noqa: S311  (spreading retries, not a secret)


def marketing_sent_today(session: Session, row: OutboxMessage, *, now: datetime, tz: str) -> int:
    """Marketing messages (causes, not channels) this member got today, club time."""
    if row.category != "marketing":
        return 0
    return session.scalar(
        select(func.count(func.distinct(OutboxMessage.key))).where(
            OutboxMessage.member_id == row.member_id, OutboxMessage.category == "marketing",
            OutboxMessage.channel != "inbox", OutboxMessage.status.in_(SENT),
            OutboxMessage.sent_at >= policy.club_day_start(now, tz), OutboxMessage.key != row.key)
    ) or 0


def deliver_one(session: Session, row: OutboxMessage, member: Member, *, sender: Sender | None,
                config: Mapping, settings: policy.MessagingSettings, now: datetime, tz: str,
                wordings: dict | None = None) -> str:
    """Decide, word and send one claimed row; returns its new status. The caller
    commits. `sender` None: the channel's sender could not be opened (retried).
    `wordings` keeps each (kind, locale)'s template for a batch: one read, not one per message."""
    if row.status != "sending":
        return row.status  # someone else finished it
    address = row.address or ADDRESS[row.channel](member)
    decision = policy.decide(
        channel=row.channel, category=row.category, member=member, address=address, settings=settings,
        now=now, tz=tz, marketing_today=marketing_sent_today(session, row, now=now, tz=tz))
    if decision.action == "suppress":
        return _finish(row, "suppressed", reason=decision.reason)
    if decision.action == "wait":
        row.attempts -= 1  # waiting out the night is not a failed attempt
        return _again(row, decision.until, reason=decision.reason)
    if sender is None:
        return _retry(row, Retry("sender_unavailable"), now)
    try:
        wording = (row.kind, member_locale(member, config))
        cache = wordings if wordings is not None else {}
        text = cache[wording] if wording in cache else cache.setdefault(wording, template_for(session, *wording))
        message = render(row, member, config, text, to=address, tracking=settings)
    except Exception as exc:  # a template that cannot be worded will not get better
        log.exception("outbox %s: cannot word %s", row.id, row.kind)
        return _finish(row, "failed", reason="template", error=str(exc)[:500])
    try:
        provider_id = sender.send(message)
    except Retry as exc:
        return _retry(row, exc, now)
    except Refused as exc:
        return _finish(row, "failed", reason="refused", error=str(exc)[:500])
    except Exception as exc:  # an adapter bug or a dropped connection: keep the message
        log.exception("outbox %s: %s sender failed", row.id, row.channel)
        return _retry(row, Retry(f"{type(exc).__name__}: {exc}"[:500]), now)
    row.provider_id = None if provider_id is None else str(provider_id)[:120]
    row.sent_at = now
    if row.channel == "sms":
        row.segments = count_segments(message.text).count
    secret = kind_of(row.kind).secret
    if secret:  # a code or reset link must not outlive its delivery in our tables
        row.params = {k: ("" if k in secret else v) for k, v in (row.params or {}).items()}
    return _finish(row, "sent")


def _finish(row: OutboxMessage, status: str, *, reason: str | None = None, error: str | None = None) -> str:
    row.status, row.reason, row.error, row.claimed_until = status, reason, error, None
    return status


def _again(row: OutboxMessage, when: datetime, *, reason: str | None, error: str | None = None) -> str:
    row.status, row.next_attempt_at, row.claimed_until = "pending", when, None
    row.reason, row.error = reason, error
    return "pending"


def _retry(row: OutboxMessage, exc: Retry, now: datetime) -> str:
    if row.attempts >= MAX_ATTEMPTS:
        return _finish(row, "failed", reason="gave_up", error=exc.reason)
    wait = exc.after if exc.after is not None else backoff(row.attempts)
    return _again(row, now + timedelta(seconds=wait), reason="retrying", error=exc.reason)
