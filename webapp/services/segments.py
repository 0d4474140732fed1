"""Segments: members matching a list of conditions, compiled to one SQL query.
(Contract stub: the segments work replaces the bodies, keeping the signatures.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def member_ids_in(session: Session, segment_ids, member_id: int, now: datetime) -> set[int]:
    """Which of `segment_ids` the member belongs to now (one query)."""
    return set()


def contains(session: Session, segment_id: int, member_id: int, now: datetime) -> bool:
    return segment_id in member_ids_in(session, [segment_id], member_id, now)


def audience(session: Session, segment_id: int | None, now: datetime):
    """SELECT of the ids of active members in the segment (None: every active
    member), for set-based INSERT … SELECT and counts."""
    from sqlalchemy import select

    from webapp.models import Member

    return select(Member.id).where(Member.status == "active")
