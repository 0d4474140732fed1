"""Housekeeping of derived or temporary rows (never ledger data)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from webapp.models import ApiIdempotency

# the API promises to replay an answer for this long (see the OpenAPI description)
IDEMPOTENCY_RETENTION = timedelta(days=7)


def purge_idempotency_records(session: Session, *, now: datetime) -> int:
    """Forget stored API answers older than the retention; set-based. The effects
    they guarded stay protected by the ledger's own unique keys."""
    result = session.execute(
        delete(ApiIdempotency).where(ApiIdempotency.created_at < now - IDEMPOTENCY_RETENTION)
    )
    return result.rowcount or 0
