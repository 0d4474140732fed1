"""How many members a changed program would move, before staff save it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from webapp.models import Member
from webapp.services.tiers import rules
from webapp.services.tiers.metrics import metric_query, windows
from webapp.services.tiers.program import TierProgramInvalid, load_program
from webapp.services.tiers.rules import Program
from webapp.services.tiers.sql import active_override, rank_for, rank_held


@dataclass(frozen=True)
class ChangePreview:
    up: int
    down: int
    unchanged: int
    per_level: dict[str, int]  # code -> members on that level after the change


def preview_change(session: Session, program: Program, now: datetime,
                   tz: str | None = None) -> ChangePreview:
    """How many members the program would move up and down (set-based, one query).
    Members with an active override keep their level; members on a level the
    new program drops count from the new top level down."""
    problems = rules.check_program(program)
    if problems:
        raise TierProgramInvalid(problems)
    current = load_program(session)
    sq = metric_query(program, windows(program, now, tz)).subquery()
    metric = func.coalesce(sq.c.qualifying, 0)
    top = len(program.levels) - 1
    held = rank_held(current.levels) if current else literal(-1)
    held = case((held < 0, 0), (held > top, top), else_=held)
    proposed = rank_for(metric, program.levels)
    after = case((active_override(now), held), else_=proposed)
    rows = session.execute(
        select(held.label("held"), after.label("after"), func.count())
        .select_from(Member).outerjoin(sq, sq.c.member_id == Member.id)
        .group_by(held, after)
    ).all()
    up = down = unchanged = 0
    per_level = {lv.code: 0 for lv in program.levels}
    for held_rank, after_rank, count in rows:
        count = int(count)
        per_level[program.levels[int(after_rank)].code] += count
        if after_rank > held_rank:
            up += count
        elif after_rank < held_rank:
            down += count
        else:
            unchanged += count
    return ChangePreview(up=up, down=down, unchanged=unchanged, per_level=per_level)
