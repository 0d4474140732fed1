"""Points jobs: the nightly expiry of due lots."""

from __future__ import annotations

from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services import ledger

BATCH = 500


def expire_points() -> int:
    """Expire every lot past its date. Each lot has one expiry key, so a second
    run (or a retried job) finds nothing left to do. Commits per batch so a
    crash keeps what was done."""
    with job_app():
        session = db.session
        now = utcnow()
        expired = 0
        while True:
            lot_ids = ledger.due_lot_ids(session, now, BATCH)
            if not lot_ids:
                break
            for lot_id in lot_ids:
                expired += ledger.expire_lot(session, lot_id, now)
            session.commit()
        return expired
