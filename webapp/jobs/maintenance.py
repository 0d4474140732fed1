"""Housekeeping jobs."""

from __future__ import annotations

from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services.maintenance import purge_idempotency_records


def purge_idempotency_keys() -> int:
    """Delete expired stored API answers. Running it twice deletes nothing more."""
    with job_app():
        purged = purge_idempotency_records(db.session, now=utcnow())
        db.session.commit()
        return purged
