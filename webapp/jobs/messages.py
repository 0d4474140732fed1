"""Delivering the outbox. A commit that wrote e-mail, SMS or push rows wakes a
worker (`wake_after_commit`); a per-minute sweep picks up retries, the end of
quiet hours and rows whose worker died. Any number of these jobs may run at once:
each claims its own rows."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.club import club_of
from webapp.extensions import db
from webapp.jobs import get_queue
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services.messages import delivery, policy
from webapp.services.messages.channels import Sender, open_sender
from webapp.services.messages.outbox import WAKE

log = logging.getLogger("vafa.messages")
BATCH = 200
BUDGET = 240  # seconds a job keeps claiming before it hands over to a fresh one
JOB_TIMEOUT = 600
# set while a delivery job waits in the queue: commits in between need no other
QUEUED_FLAG = "vafa:outbox:queued"


def deliver_outbox() -> dict:
    """Deliver every due row; returns counts by outcome."""
    with job_app() as app:
        app.extensions["vafa_redis"].delete(QUEUED_FLAG)
        session = db.session
        tz = club_of(app.config).timezone
        settings = policy.load_messaging_settings(session)
        senders: dict[str, Sender | None] = {}
        counts: dict[str, int] = {}
        wordings: dict = {}  # staff edits reach the next job
        lease = timedelta(seconds=app.config.get("VAFA_OUTBOX_LEASE_SECONDS") or 300)
        started = time.monotonic()
        try:
            while time.monotonic() - started < BUDGET:
                ids = delivery.claim(session, now=utcnow(), limit=BATCH, lease=lease)
                session.commit()
                if not ids:
                    return counts
                claimed_at = time.monotonic()
                for row, member in delivery.claimed_rows(session, ids):
                    if time.monotonic() - claimed_at > lease.total_seconds() / 2:
                        # slow providers: hand the rest back before another worker may take them over
                        delivery.release(session, ids)
                        session.commit()
                        break
                    sender = senders[row.channel] if row.channel in senders else _open(row.channel, app.config, senders)
                    outcome = delivery.deliver_one(session, row, member, sender=sender, config=app.config,
                                                   settings=settings, now=utcnow(), tz=tz, wordings=wordings)
                    session.commit()  # one commit per message: a kill loses none
                    counts[outcome] = counts.get(outcome, 0) + 1
            wake()  # out of time with rows left: a fresh job goes on
            return counts
        finally:
            for sender in senders.values():
                if sender is not None:
                    sender.close()


def _open(channel: str, config, senders: dict) -> Sender | None:
    try:
        senders[channel] = open_sender(channel, config)
    except Exception:
        log.exception("the %s sender cannot be opened: its messages wait", channel)
        senders[channel] = None
    return senders[channel]


def wake() -> None:
    """Queue a delivery job unless one is already waiting."""
    connection = current_app.extensions["vafa_redis"]
    if connection.set(QUEUED_FLAG, 1, nx=True, ex=JOB_TIMEOUT):
        get_queue("high").enqueue(deliver_outbox, job_timeout=JOB_TIMEOUT, result_ttl=3600,
                                  failure_ttl=7 * 86400)


def sweep_outbox() -> None:
    """Every minute: wake a worker for retries and messages held overnight."""
    with job_app():
        wake()


@event.listens_for(Session, "after_commit")
def wake_after_commit(session: Session) -> None:
    if session.info.pop(WAKE, False) and has_app_context():
        try:
            wake()
        except Exception:  # Redis away: the sweep delivers them within a minute
            log.exception("could not wake the outbox worker")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(WAKE, None)
