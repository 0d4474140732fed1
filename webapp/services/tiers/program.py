"""The club's tier program in the database: the default one, reading it once per
transaction, and saving a new version (levels replaced by rank)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, Tier, TierHistory, TierProgram
from webapp.services import config_cache
from webapp.services.errors import Conflict, ProblemsInvalid
from webapp.services.members import audit
from webapp.services.tiers import rules
from webapp.services.tiers.rules import BP, Level, Program
from webapp.services.tiers.sql import expire_loaded_members, sql_time


class TierProgramInvalid(ProblemsInvalid):
    """The tier program is not valid."""

    code = "tier_program_invalid"


def _benefit(fa: str, en: str) -> dict:
    return {"fa": fa, "en": en}


def default_program() -> Program:
    """Bronze/Silver/Gold/Platinum on points earned over a rolling year."""

    def perks(free_shipping, tickets, rewards):
        return {"free_shipping": free_shipping, "extra_raffle_tickets": tickets,
                "fee_rebate_bp": 0, "rewards_unlocked": rewards}

    levels = (
        Level(0, "bronze", "برنزی", "Bronze", 0, BP, color="#8c6a4f", icon="medal",
              benefits=(_benefit("امتیاز برای هر خرید", "Points on every purchase"),
                        _benefit("پیشنهادهای ویژهٔ اعضا", "Members-only offers")),
              perks=perks(False, 0, False)),
        Level(1, "silver", "نقره‌ای", "Silver", 1_000, 11_000, color="#6b7785", icon="star",
              benefits=(_benefit("۱۰٪ امتیاز بیشتر برای هر خرید", "10% more points on purchases"),
                        _benefit("جایزه‌های ویژه باز می‌شوند", "Exclusive rewards unlocked")),
              perks=perks(False, 0, True)),
        Level(2, "gold", "طلایی", "Gold", 4_000, 12_500, color="#9a6b00", icon="crown",
              benefits=(_benefit("۲۵٪ امتیاز بیشتر برای هر خرید", "25% more points on purchases"),
                        _benefit("ارسال رایگان", "Free shipping"),
                        _benefit("یک بلیت اضافه در هر قرعه‌کشی", "One extra ticket in every raffle")),
              perks=perks(True, 1, True)),
        Level(3, "platinum", "پلاتینی", "Platinum", 10_000, 15_000, color="#3d4f63", icon="gem",
              benefits=(_benefit("۵۰٪ امتیاز بیشتر برای هر خرید", "50% more points on purchases"),
                        _benefit("ارسال رایگان", "Free shipping"),
                        _benefit("دو بلیت اضافه در هر قرعه‌کشی", "Two extra tickets in every raffle")),
              perks=perks(True, 2, True)),
    )
    return Program(metric="points_earned", window_kind="rolling", levels=levels, window_days=365,
                   grace_days=30, allow_overrides=True)


def _program_row(session: Session, *, lock: bool = False) -> TierProgram | None:
    stmt = select(TierProgram).order_by(TierProgram.id).limit(1)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def _level_of(tier: Tier) -> Level:
    return Level(
        rank=tier.rank, code=tier.code, name_fa=tier.name_fa, name_en=tier.name_en,
        threshold=tier.threshold, earn_multiplier_bp=tier.earn_multiplier_bp, id=tier.id,
        color=tier.color, icon=tier.icon, benefits=tuple(tier.benefits or ()),
        perks=dict(tier.perks or {}),
    )


def load_program(session: Session) -> Program | None:
    """The club's program, or None when it has none yet: a snapshot cached per
    process and configuration version (`config_cache`), as pages and the
    purchase call read it on every request."""
    return config_cache.cached(session, "tier_program", _read_program)


def _read_program(session: Session) -> Program | None:
    row = _program_row(session)
    if row is None:
        return None
    tiers = sorted(row.tiers, key=lambda t: t.rank)  # loaded with the row (selectin)
    if not tiers:
        return None
    return Program(
        metric=row.metric, window_kind=row.window_kind, levels=tuple(_level_of(t) for t in tiers),
        window_days=row.window_days, calendar_period=row.calendar_period,
        calendar_system=row.calendar_system, grace_days=row.grace_days,
        allow_overrides=row.allow_overrides, rebate_money_per_point=row.rebate_money_per_point,
    )


def _snapshot(program: Program | None) -> dict | None:
    if program is None:
        return None
    data = asdict(program)
    for level in data["levels"]:
        level.pop("id", None)
    return data


def save_program(session: Session, program: Program, *, actor: audit.Actor, now: datetime) -> None:
    """Validate and store the program: levels are replaced by rank (kept ranks keep
    their ids, so members stay on them); members on a removed level move to the new
    top level (history `program_change`) and the nightly evaluation does the rest.
    Audited with before and after."""
    problems = rules.check_program(program)
    if problems:
        raise TierProgramInvalid(problems)
    row = _program_row(session, lock=True)
    before = _snapshot(_read_program(session)) if row is not None else None
    if row is None:
        row = _create_program_row(session, program)
    row.metric = program.metric
    row.window_kind = program.window_kind
    row.window_days = program.window_days
    row.calendar_period = program.calendar_period if program.window_kind == "calendar" else None
    row.calendar_system = program.calendar_system
    row.grace_days = program.grace_days
    row.allow_overrides = program.allow_overrides
    row.rebate_money_per_point = program.rebate_money_per_point
    row.version = (row.version or 0) + 1
    row.updated_at = now
    session.flush()
    _replace_levels(session, row, program, now=now)
    session.expire(row, ["tiers"])  # the collection loaded with the row is stale now
    audit.record(session, actor, "tiers.program", "tier_program", row.id, now=now,
                 before=before, after=_snapshot(program))
    session.flush()


def _create_program_row(session: Session, program: Program) -> TierProgram:
    # the club has one program, always id 1: two staff creating it at the same
    # moment collide on the primary key instead of creating two programs
    row = TierProgram(id=1, version=0, metric=program.metric, window_kind=program.window_kind)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("The tier program was just created by someone else; reload.") from exc
    return row


def _replace_levels(session: Session, row: TierProgram, program: Program, *, now: datetime) -> None:
    """The program's tiers by rank: kept ranks keep their rows (and members), extra
    ranks are removed after their members move to the new top level."""
    existing = {t.rank: t for t in session.scalars(select(Tier).where(Tier.program_id == row.id))}
    for tier in existing.values():
        tier.code = f"~{tier.id}"  # codes are unique per program: park them so levels may swap codes
    session.flush()
    removed = [t for rank, t in existing.items() if rank >= len(program.levels)]
    if removed:
        _move_off_removed_levels(session, [t.id for t in removed],
                                 existing[len(program.levels) - 1].id, version=row.version, now=now)
        for tier in removed:
            session.delete(tier)
        session.flush()
    for level in program.levels:
        tier = existing.get(level.rank) or Tier(program_id=row.id, rank=level.rank)
        tier.code = level.code
        tier.name_fa = level.name_fa.strip()
        tier.name_en = level.name_en.strip()
        tier.threshold = level.threshold
        tier.earn_multiplier_bp = level.earn_multiplier_bp
        tier.color = level.color
        tier.icon = level.icon
        tier.benefits = [dict(b) for b in level.benefits]
        tier.perks = dict(level.perks)
        session.add(tier)
    session.flush()


def _move_off_removed_levels(session, removed_ids, top_id, *, version, now) -> None:
    on_removed = Member.tier_id.in_(removed_ids)
    key = literal("tier:") + cast(Member.id, String) + literal(f":program_change:{version}")
    session.execute(
        insert_ignoring_duplicates(session, TierHistory).from_select(
            ["member_id", "from_tier_id", "to_tier_id", "reason", "metric_value", "actor", "key",
             "created_at"],
            select(Member.id, Member.tier_id, literal(top_id), literal("program_change"),
                   Member.tier_metric, literal("system"), key, sql_time(now)).where(on_removed),
        ).on_conflict_do_nothing(index_elements=["key"])
    )
    session.execute(
        update(Member).where(on_removed).values(tier_id=top_id, tier_since=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Member).where(Member.tier_override_id.in_(removed_ids)).values(tier_override_id=top_id)
        .execution_options(synchronize_session=False)
    )
    expire_loaded_members(session)
