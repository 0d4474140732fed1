"""A member's level and where they stand: the progress card and the history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Member, TierHistory
from webapp.services.tiers import rules
from webapp.services.tiers.club_day import club_timezone
from webapp.services.tiers.metrics import LEAVING_HORIZON_DAYS, member_standing
from webapp.services.tiers.program import load_program
from webapp.services.tiers.rules import Level, Program


def levels_by_id(program: Program) -> dict[int, Level]:
    return {lv.id: lv for lv in program.levels if lv.id is not None}


def member_level(session: Session, member: Member, program: Program | None = None) -> Level | None:
    """The level the member holds (a staff override included); the entry level
    before their first evaluation; None when the club has no program."""
    program = program or load_program(session)
    if program is None:
        return None
    return levels_by_id(program).get(member.tier_id) or program.levels[0]


def override_active(member: Member, now: datetime) -> bool:
    return member.tier_override_id is not None and (
        member.tier_override_until is None or member.tier_override_until > now)


def member_progress(session: Session, member: Member, now: datetime,
                    tz: str | None = None, program: Program | None = None,
                    ) -> rules.Progress | None:
    """Where the member stands: current level, the next one, how much more and by
    when, what leaves a rolling window soon, and what keeps the level. Pass the
    `program` when the caller has loaded it already (saves its queries)."""
    program = program or load_program(session)
    if program is None:
        return None
    tz = club_timezone(tz)
    level = member_level(session, member, program)
    current, _qualifying, contributions = member_standing(session, program, member.id, now, tz=tz)
    due = member.downgrade_due_at
    if override_active(member, now):
        due = member.tier_override_until
    elif due is None and program.window_kind == "rolling" and current < level.threshold:
        due = rules.downgrade_due(program, now)  # what the next night would set
    return rules.progress(
        program, level, current, now, tz,
        contributions=contributions,
        downgrade_due_at=due, leaving_horizon_days=LEAVING_HORIZON_DAYS,
    )


def member_history(session: Session, member_id: int, limit: int = 50) -> list[TierHistory]:
    return list(session.scalars(
        select(TierHistory).where(TierHistory.member_id == member_id)
        .order_by(TierHistory.id.desc()).limit(max(1, min(limit, 500)))
    ))
