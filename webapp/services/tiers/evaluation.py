"""The nightly evaluation of every member, set-based: a handful of statements
over the member table, whatever the club's size."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, String, and_, case, cast, func, literal, not_, select, update
from sqlalchemy.orm import Session, aliased

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, TierHistory
from webapp.services import messages
from webapp.services.tiers import rules
from webapp.services.tiers.club_day import club_timezone, local_day
from webapp.services.tiers.metrics import metric_query, windows
from webapp.services.tiers.program import load_program
from webapp.services.tiers.rules import Program
from webapp.services.tiers.sql import (
    active_override,
    expire_loaded_members,
    json_object,
    level_id_for,
    not_negative,
    rank_for,
    rank_held,
    sql_time,
)


@dataclass(frozen=True)
class EvaluationResult:
    day: str
    members: int
    metric_changed: int
    upgraded: int
    at_risk: int
    requalified: int
    downgraded: int
    overrides_ended: int


class _Night:
    """The set-based statements of one evaluation run. Every statement works on
    `member` columns only (the metric is stored first), so each is one pass."""

    def __init__(self, session: Session, program: Program, now: datetime, tz: str):
        self.session, self.program, self.now, self.tz = session, program, now, tz
        self.day = local_day(now, tz)
        self.levels = program.levels
        self.eligible = Member.status != "closed"
        self.held_rank = rank_held(self.levels)
        self.target_rank = rank_for(Member.tier_metric, self.levels)
        self.target_id = level_id_for(Member.tier_metric, self.levels)
        self.override = active_override(now)
        # below the level they hold: at risk, then down once the grace is over
        self.below = and_(self.eligible, self.target_rank < self.held_rank, not_(self.override))

    def code_of_held(self):
        return cast(case({lv.id: lv.code for lv in self.levels}, value=Member.tier_id, else_=None),
                    String)

    def code_of_target(self):
        return cast(case({lv.rank: lv.code for lv in self.levels}, value=self.target_rank,
                         else_=None), String)

    def key(self, reason: str, with_target: bool = False):
        key = literal("tier:") + cast(Member.id, String) + literal(f":{reason}:")
        if with_target:
            key = key + cast(self.target_id, String) + literal(":")
        return key + literal(self.day)

    def history(self, where, reason: str, *, with_target: bool = False) -> None:
        self.session.execute(
            insert_ignoring_duplicates(self.session, TierHistory).from_select(
                ["member_id", "from_tier_id", "to_tier_id", "reason", "metric_value", "actor",
                 "key", "created_at"],
                select(Member.id, Member.tier_id, self.target_id, literal(reason),
                       Member.tier_metric, literal("system"), self.key(reason, with_target),
                       sql_time(self.now)).where(where),
            ).on_conflict_do_nothing(index_elements=["key"])
        )

    def messages(self, where, kind, params, reason: str, *, with_target: bool = False, join=None):
        """One grouped read of the members told, then their outbox rows (inbox
        and the kind's other channels) in batches; keys already written are skipped.
        `kind` is a name or a SQL expression giving one per member."""
        kind = literal(kind) if isinstance(kind, str) else kind
        source = select(Member.id, kind, params, self.key(reason, with_target))
        if join is not None:
            source = source.select_from(Member).outerjoin(*join)
        by_code = {lv.code: lv for lv in self.levels}
        told = []
        for member_id, kind_name, values, key in self.session.execute(source.where(where)):
            values = dict(values) if isinstance(values, dict) else json.loads(values)
            told.append({"member_id": member_id, "kind": kind_name, "key": key,
                         "params": {**values, **_level_names(by_code, values)}})
        messages.notify_many(self.session, told, now=self.now)

    def update(self, where, **values) -> int:
        return self.session.execute(
            update(Member).where(where).values(**values).execution_options(synchronize_session=False)
        ).rowcount

    def moved_params(self):
        return json_object(self.session, **{"from": self.code_of_held(), "to": self.code_of_target()})


def _level_names(by_code: dict, values: dict) -> dict:
    """The names the templates read (`catalog`: tier, old_tier) beside the codes the inbox reads."""
    held = by_code.get(values.get("to") or values.get("tier"))
    old = by_code.get(values.get("from")) if "to" in values else None
    return {"tier_name_fa": held.name_fa if held else "", "tier_name_en": held.name_en if held else "",
            "old_tier_name_fa": old.name_fa if old else "", "old_tier_name_en": old.name_en if old else ""}


def evaluate_all(session: Session, *, now: datetime, tz: str | None = None) -> EvaluationResult:
    """The nightly evaluation of every member, set-based: store each member's
    metric, end due overrides, upgrade, clear members who qualify again, flag new
    at-risk members (grace starts), downgrade those whose grace is over. History
    and inbox keys carry the local date, so a second run the same night changes
    nothing. Never commits."""
    tz = club_timezone(tz)
    program = load_program(session)
    if program is None:
        return EvaluationResult(local_day(now, tz), 0, 0, 0, 0, 0, 0, 0)
    session.flush()
    night = _Night(session, program, now, tz)
    metric_changed = _store_metrics(session, program, now, tz, night.eligible)
    overrides_ended = _end_overrides(night)
    upgraded = _upgrade(night)
    requalified = _clear_requalified(night)
    at_risk = _start_grace(night)
    downgraded = _downgrade(night)
    members = session.scalar(select(func.count()).select_from(Member).where(night.eligible))
    expire_loaded_members(session)
    return EvaluationResult(
        day=night.day, members=members or 0, metric_changed=metric_changed, upgraded=upgraded,
        at_risk=at_risk, requalified=requalified, downgraded=downgraded,
        overrides_ended=overrides_ended)


def _end_overrides(night: _Night) -> int:
    """Overrides that have ended: back to the level the metric earns, at once."""
    held, target = night.held_rank, night.target_rank
    ended = and_(night.eligible, Member.tier_override_id.is_not(None),
                 Member.tier_override_until <= night.now)
    night.history(ended, "override_end")
    night.messages(and_(ended, target != held),
                   case((target > held, "tier_upgrade"), else_="tier_downgrade"),
                   night.moved_params(), "override_end")
    return night.update(
        ended,
        tier_since=case((Member.tier_id == night.target_id, Member.tier_since),
                        else_=sql_time(night.now)),
        tier_id=night.target_id, tier_override_id=None, tier_override_until=None,
        downgrade_due_at=None)


def _upgrade(night: _Night) -> int:
    """Upgrades (an active override wins: it is left alone until it ends)."""
    rises = and_(night.eligible, night.target_rank > night.held_rank, not_(night.override))
    told = and_(rises, night.target_rank > 0)  # a first evaluation at the entry level is silent
    upgraded = night.session.scalar(select(func.count()).select_from(Member).where(told)) or 0
    night.history(told, "upgrade", with_target=True)
    night.messages(told, "tier_upgrade", night.moved_params(), "upgrade", with_target=True)
    night.update(rises, tier_id=night.target_id, tier_since=night.now, downgrade_due_at=None)
    return upgraded


def _clear_requalified(night: _Night) -> int:
    """Members in grace who qualify again."""
    return night.update(
        and_(night.eligible, Member.downgrade_due_at.is_not(None),
             night.target_rank >= night.held_rank, not_(night.override)), downgrade_due_at=None)


def _start_grace(night: _Night) -> int:
    """Newly at risk: the grace starts (with no grace, the downgrade follows at once)."""
    program, now = night.program, night.now
    newly = and_(night.below, Member.downgrade_due_at.is_(None))
    if program.grace_days <= 0:
        night.update(newly, downgrade_due_at=now)
        return 0
    due = rules.downgrade_due(program, now)
    night.history(newly, "at_risk")
    threshold = case({lv.id: lv.threshold for lv in night.levels}, value=Member.tier_id, else_=0)
    join = None
    current = Member.tier_metric
    if program.window_kind == "calendar":
        # to keep the level the member must reach it again in this period
        sq = metric_query(program, windows(program, now, night.tz)).subquery()
        join = (sq, sq.c.member_id == Member.id)
        current = func.coalesce(sq.c.current, 0)
    keep_needed = cast(not_negative(threshold - current), BigInteger)
    night.messages(newly, "tier_at_risk", json_object(
        night.session, tier=night.code_of_held(), keep_needed=keep_needed,
        keep_by=cast(literal(due.isoformat()), String)), "at_risk", join=join)
    return night.update(newly, downgrade_due_at=due)


def _downgrade(night: _Night) -> int:
    """Grace over: down to the level the metric earns."""
    falls = and_(night.below, Member.downgrade_due_at <= night.now)
    night.history(falls, "downgrade")
    night.messages(falls, "tier_downgrade", night.moved_params(), "downgrade")
    return night.update(falls, tier_id=night.target_id, tier_since=night.now, downgrade_due_at=None)


def _store_metrics(session, program, now, tz, eligible) -> int:
    """member.tier_metric := the qualifying metric, for everyone, in one UPDATE
    (members with nothing in the window any more get 0); only changed rows are written."""
    sq = metric_query(program, windows(program, now, tz)).subquery()
    everyone = aliased(Member)
    fresh = (
        select(everyone.id.label("id"), func.coalesce(sq.c.qualifying, 0).label("metric"))
        .select_from(everyone).outerjoin(sq, sq.c.member_id == everyone.id)
        .where(everyone.status != "closed")
        .subquery()
    )
    return session.execute(
        update(Member)
        .where(Member.id == fresh.c.id, eligible, Member.tier_metric != fresh.c.metric)
        .values(tier_metric=fresh.c.metric)
        .execution_options(synchronize_session=False)
    ).rowcount
