"""Contest jobs: the minute cron that enqueues the finalising of contests that
are due, and the finalise job itself (ids only, idempotent: see
services.contest_results)."""

from __future__ import annotations

from flask import current_app

from webapp.extensions import db
from webapp.jobs import enqueue_once
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services.play import contest_results, leaderboards

QUEUE = "default"


def job_id(contest_id: int) -> str:
    return f"contest-finalise-{contest_id}"


def enqueue_finalise(contest_id: int) -> bool:
    """Enqueue unless that contest's job is already waiting (call after commit)."""
    return enqueue_once(finalise_contest, contest_id, job_id=job_id(contest_id), job_timeout=1800, queue=QUEUE)


def finalise_due_contests() -> dict:
    """Every minute: quizzes past their close, predictions with their result."""
    with job_app():
        due = contest_results.due_contest_ids(db.session, utcnow())
        db.session.rollback()
        return {"enqueued": [cid for cid in due if enqueue_finalise(cid)]}


def finalise_contest(contest_id: int) -> dict:
    with job_app():
        session = db.session
        try:
            done = contest_results.finalise_contest(session, contest_id, now=utcnow())
            session.commit()
        except Exception:
            session.rollback()
            raise
        if done is not None:
            # the board is now read from the stored ranks: drop the live cache
            current_app.extensions["vafa_redis"].delete(leaderboards.board_key(contest_id))
            return {"contest": contest_id, "entrants": done.entrants, "prizes": done.prizes_awarded,
                    "participation": done.participation_awarded}
        return {"contest": contest_id, "finalised": False}
