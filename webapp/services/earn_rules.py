"""Earn rules designed by staff, applied to events. (Contract stub: the earn
rules work replaces the bodies, keeping the signatures.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def award_for_event(
    session: Session, *, member_id: int, trigger: str, event_key: str, now: datetime,
    context: dict | None = None, created_by: str = "system",
) -> list:
    """Apply every active rule of `trigger` that matches; one ledger entry per rule,
    keyed by the rule family and `event_key` (a replayed event earns nothing more).
    Returns the RuleAward rows made."""
    return []
