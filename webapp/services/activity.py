"""What a member sees of their own ledger: newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import LedgerEntry

PAGE_SIZE = 20


@dataclass(frozen=True)
class ActivityPage:
    entries: list[LedgerEntry]
    next_before: int | None  # pass as `before_id` for the next (older) page; None at the end


def member_activity(
    session: Session, member_id: int, *, before_id: int | None = None, limit: int = PAGE_SIZE
) -> ActivityPage:
    """Keyset pagination on the entry id (ids grow with time), so a page never
    shifts when new entries arrive while the member scrolls."""
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    rows = list(session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    entries = rows[:limit]
    return ActivityPage(entries=entries, next_before=entries[-1].id if more else None)
