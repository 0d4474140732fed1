"""Broadcast jobs: the minute cron that starts due broadcasts and marks finished
ones sent, and the sending of one broadcast. Both are safe to run twice or at
once: sending locks the broadcast row and re-reads its state, and the outbox
rows are unique per (member, channel, cause)."""

from __future__ import annotations

from webapp.extensions import db
from webapp.jobs import enqueue_once
from webapp.jobs.context import job_app
from webapp.models import Broadcast, utcnow
from webapp.services.messages import broadcast_send

QUEUE = "default"


def job_id(broadcast_id: int) -> str:
    return f"broadcast-{broadcast_id}"


def enqueue_send(broadcast_id: int) -> bool:
    """Enqueue `send_broadcast` unless its job is already waiting or running
    (call after committing)."""
    return enqueue_once(send_broadcast, broadcast_id, job_id=job_id(broadcast_id), job_timeout=3600, queue=QUEUE)


def send_due_broadcasts() -> dict:
    """Every minute: broadcasts whose outbox rows are all dealt with are sent;
    scheduled ones whose time has come are enqueued."""
    with job_app():
        session = db.session
        now = utcnow()
        finished = broadcast_send.finish_delivered(session, now)
        due = broadcast_send.due_broadcast_ids(session, now)
        session.commit()
        return {"finished": finished, "enqueued": [bid for bid in due if enqueue_send(bid)]}


def send_broadcast(broadcast_id: int) -> dict:
    """Freeze the audience, hold some out and write the outbox rows, in one
    transaction; the commit wakes the delivery workers."""
    with job_app():
        session = db.session
        try:
            broadcast_send.begin_sending(session, broadcast_id, now=utcnow())
            session.commit()
        except Exception:
            session.rollback()
            raise
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return {"broadcast": broadcast_id, "status": None}
        session.refresh(broadcast)
        return {"broadcast": broadcast_id, "status": broadcast.status, "targeted": broadcast.targeted,
                "held_out": broadcast.held_out}
