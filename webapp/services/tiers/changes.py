"""A member's level changing one at a time: the history row and inbox message of
a change, and the immediate upgrade after a qualifying event (downgrades wait for
the nightly evaluation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, TierHistory
from webapp.services import messages
from webapp.services.tiers import rules
from webapp.services.tiers.club_day import club_timezone, local_day
from webapp.services.tiers.metrics import EARNING_KINDS, member_metrics
from webapp.services.tiers.program import load_program
from webapp.services.tiers.progress import levels_by_id, override_active
from webapp.services.tiers.rules import Level, Program


def _history(session, *, member_id, from_id, to_id, reason, metric, actor, key, now) -> bool:
    inserted = session.execute(
        insert_ignoring_duplicates(session, TierHistory)
        .values(member_id=member_id, from_tier_id=from_id, to_tier_id=to_id, reason=reason,
                metric_value=metric, actor=actor, key=key, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"]).returning(TierHistory.id)
    ).first()
    return inserted is not None


def _message(session, *, member_id, kind, params, key, now) -> None:
    messages.notify(session, member_id=member_id, kind=kind, params=params, key=key, now=now)


def record_change(session, member: Member, old: Level | None, new: Level, *, reason: str,
                  key: str, actor: str, metric: int, now: datetime) -> None:
    """A history row and, when the level moved, the member's inbox message."""
    _history(session, member_id=member.id, from_id=old.id if old else None, to_id=new.id,
             reason=reason, metric=metric, actor=actor, key=key, now=now)
    if old is None or new.rank != old.rank:
        kind = "tier_upgrade" if old is None or new.rank > old.rank else "tier_downgrade"
        _message(session, member_id=member.id, kind=kind, params=moved_params(old, new), key=key, now=now)


def moved_params(old: Level | None, new: Level) -> dict:
    """A level change's message params: the codes (the inbox) and both names (the templates)."""
    return {"from": old.code if old else None, "to": new.code,
            "tier_name_fa": new.name_fa, "tier_name_en": new.name_en,
            "old_tier_name_fa": old.name_fa if old else "", "old_tier_name_en": old.name_en if old else ""}


def upgrade_key(member_id: int, tier_id: int, day: str) -> str:
    return f"tier:{member_id}:upgrade:{tier_id}:{day}"


def on_qualifying_event(session: Session, member_id: int, *, now: datetime,
                        tz: str | None = None, program: Program | None = None,
                        metric_written: int | None = None) -> Level | None:
    """After something that may raise the metric (a purchase, points earned):
    upgrade at once if the member now qualifies higher. Never downgrades (that is
    the nightly job's). Returns the new level on an upgrade, else None."""
    program = program or load_program(session)
    if program is None:
        return None
    member = session.get(Member, member_id)
    if member is None or member.status == "closed":
        return None
    tz = club_timezone(tz)
    if metric_written is None:
        _current, metric = member_metrics(session, program, member_id, now, tz)
        member.tier_metric = metric
    else:  # the purchase's balance UPDATE already set it (`metrics.qualifying_metric_of`)
        metric = metric_written
        set_committed_value(member, "tier_metric", metric)
    target = rules.qualifying_level(program, metric)
    held = levels_by_id(program).get(member.tier_id)
    if override_active(member, now):
        session.flush()
        return None  # an active override wins until it ends
    if held is not None and target.rank <= held.rank:
        if target.rank == held.rank and member.downgrade_due_at:
            member.downgrade_due_at = None  # qualifies again: no longer at risk
        session.flush()
        return None
    member.tier_id = target.id
    member.tier_since = now
    member.downgrade_due_at = None
    member.tier_override_id = member.tier_override_until = None  # only an ended one is left here
    session.flush()
    if held is None and target.rank == 0:
        return None  # first evaluation at the entry level: nothing to tell
    record_change(session, member, held, target, reason="upgrade", actor="system", metric=metric,
                  key=upgrade_key(member_id, target.id, local_day(now, tz)), now=now)
    return target


def on_points_earned(session: Session, member_id: int, *, kind: str, now: datetime) -> Level | None:
    """`on_qualifying_event` for points entries, only when the program counts them."""
    program = load_program(session)
    if program is None or program.metric != "points_earned" or kind not in EARNING_KINDS:
        return None
    return on_qualifying_event(session, member_id, now=now, program=program)
