"""Raffle jobs: the minute cron that closes raffles past their close time and
enqueues due draws, and the draw of one raffle in three steps, each committed
and each re-checking the raffle's state under its row lock:
freeze (entry file + digest) → draw (winners, seed revealed) → award (prizes).
A worker killed after any step picks up at the next one; the stored file and
seed make the draw itself deterministic, and every prize has its ledger key."""

from __future__ import annotations

import logging

from webapp.extensions import db
from webapp.jobs import enqueue_once
from webapp.jobs.context import job_app
from webapp.models import Raffle, utcnow
from webapp.services.play import raffles

log = logging.getLogger(__name__)
QUEUE = "default"


def job_id(raffle_id: int) -> str:
    return f"raffle-draw-{raffle_id}"


def enqueue_draw(raffle_id: int) -> bool:
    """Enqueue `draw_raffle` unless its job is already waiting or running (call
    after committing). Returns whether it was enqueued."""
    return enqueue_once(draw_raffle, raffle_id, job_id=job_id(raffle_id), job_timeout=1800, queue=QUEUE)


def close_and_draw_due() -> dict:
    """Every minute: freeze the entries of raffles past their close time, then
    enqueue the draw of every raffle whose draw can run."""
    with job_app():
        session = db.session
        closed = []
        for raffle_id in raffles.close_due_ids(session, utcnow()):
            if raffles.freeze_entries(session, raffle_id, utcnow()):
                closed.append(raffle_id)
            session.commit()
        due = raffles.draw_due_ids(session, utcnow())
        session.commit()
        return {"closed": closed, "enqueued": [rid for rid in due if enqueue_draw(rid)]}


def draw_raffle(raffle_id: int) -> dict:
    """Freeze, draw and award one raffle; each step commits on its own and does
    nothing when its work is already done (or not yet due)."""
    with job_app():
        session = db.session
        steps = {}
        for name, step in (("froze", raffles.freeze_entries), ("drew", raffles.draw_winners),
                           ("awarded", raffles.award_prizes)):
            try:
                steps[name] = step(session, raffle_id, utcnow())
                session.commit()
            except Exception:
                session.rollback()
                log.exception("raffle %s: %s step failed", raffle_id, name)
                raise
        raffle = session.get(Raffle, raffle_id)
        return {"raffle": raffle_id, "status": raffle.status if raffle else None, **steps}
