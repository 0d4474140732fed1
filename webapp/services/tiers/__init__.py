"""The tiers domain. `rules` holds the pure tier rules (levels, windows,
progress); this module feeds them from the tables.


The tier engine: the club's program in the database, each member's level,
immediate upgrades on qualifying events and the nightly set-based evaluation.

Rules live in `tier_rules` (pure); this module feeds them from the tables.

What counts:
- points_earned: the signed sum of points entries of kinds `EARNING_KINDS`
  (earned, taken back for a refund, and staff adjustments, which are mostly
  corrections of earning), by entry time. Spending, expiry and conversions do
  not lower it; gifts of credit do not raise it.
- spend: purchase amount minus what was refunded, by purchase time.
- purchases: purchases not fully refunded, by purchase time.
A rolling window counts what happened in the last N days. A calendar window
counts the current period, and a level reached in one period is kept through
the next: downgrades look at max(current period, previous period).

`member.tier_id` is always the level the member holds now, a staff override
included (the override fields say whether it is one and until when), so other
code may read it directly. Downgrades happen only at night, after the grace.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    event,
    func,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from webapp.club import current_club
from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    InboxMessage,
    LedgerEntry,
    Member,
    Purchase,
    Tier,
    TierHistory,
    TierProgram,
)
from webapp.models.types import UTCDateTime
from webapp.services.errors import Conflict, DomainError
from webapp.services.ledger import lock_member
from webapp.services.members import audit, inbox
from webapp.services.tiers import rules
from webapp.services.tiers.rules import BP, Level, Program

EARNING_KINDS = ("earn", "reversal", "adjust")
MAX_OVERRIDE_DAYS = 3650
LEAVING_HORIZON_DAYS = 60


class TierProgramInvalid(DomainError):
    """The tier program is not valid."""

    code = "tier_program_invalid"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems), problems=problems)
        self.problems = problems


class NoTierProgram(DomainError):
    """The club has no tier program yet."""

    code = "no_tier_program"
    status = 409


class OverridesNotAllowed(DomainError):
    """The tier program does not allow manual overrides."""

    code = "tier_overrides_off"
    status = 409


class UnknownTier(DomainError):
    """There is no such level in the tier program."""

    code = "unknown_tier"


class InvalidOverride(DomainError):
    """An override needs an end date in the future, at most ten years ahead."""

    code = "invalid_override"


class OverrideReasonRequired(DomainError):
    """Give a reason of 3 to 300 characters."""

    code = "reason_required"


# -- the program ---------------------------------------------------------------------


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


PROGRAM_CACHE = "vafa_tier_program"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_program(session: Session, *_args) -> None:
    session.info.pop(PROGRAM_CACHE, None)


def load_program(session: Session) -> Program | None:
    """The club's program, or None when it has none yet. Read once per
    transaction: a page asks for it from several cards; `save_program` and the
    end of the transaction forget it."""
    if PROGRAM_CACHE not in session.info:
        session.info[PROGRAM_CACHE] = _read_program(session)
    return session.info[PROGRAM_CACHE]


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
    session.info.pop(PROGRAM_CACHE, None)
    row = _program_row(session, lock=True)
    before = _snapshot(load_program(session)) if row is not None else None
    if row is None:
        # the club has one program, always id 1: two staff creating it at the same
        # moment collide on the primary key instead of creating two programs
        row = TierProgram(id=1, version=0, metric=program.metric, window_kind=program.window_kind)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError as exc:
            raise Conflict("The tier program was just created by someone else; reload.") from exc
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
    session.expire(row, ["tiers"])  # the collection loaded with the row is stale now
    session.info.pop(PROGRAM_CACHE, None)  # and so is the program read for `before`
    audit.record(session, actor, "tiers.program", "tier_program", row.id, now=now,
                 before=before, after=_snapshot(program))
    session.flush()


def _move_off_removed_levels(session, removed_ids, top_id, *, version, now) -> None:
    on_removed = Member.tier_id.in_(removed_ids)
    key = literal("tier:") + cast(Member.id, String) + literal(f":program_change:{version}")
    session.execute(
        insert_ignoring_duplicates(session, TierHistory).from_select(
            ["member_id", "from_tier_id", "to_tier_id", "reason", "metric_value", "actor", "key",
             "created_at"],
            select(Member.id, Member.tier_id, literal(top_id), literal("program_change"),
                   Member.tier_metric, literal("system"), key, _ts(now)).where(on_removed),
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
    _expire_members(session)


# -- windows and metrics -----------------------------------------------------------


def club_timezone(tz: str | None = None) -> str:
    """`tz` when the caller passed one, else the time zone of the club being served."""
    return tz or current_club().timezone


def local_day(now: datetime, tz: str | None = None) -> str:
    return now.astimezone(ZoneInfo(club_timezone(tz))).date().isoformat()


@dataclass(frozen=True)
class Windows:
    """Where contributions count. `qualify_start` is where the metric that holds a
    level starts (calendar: the previous period's start), `current_start` where the
    metric the member sees starts; contributions count up to `end` (exclusive) for
    calendar windows and up to `now` (inclusive) for rolling ones."""

    qualify_start: datetime
    current_start: datetime
    end: datetime | None
    now: datetime
    rolling: bool


def windows(program: Program, now: datetime, tz: str | None = None) -> Windows:
    tz = club_timezone(tz)
    start, end = rules.window_bounds(program, now, tz)
    if program.window_kind == "rolling":
        return Windows(start, start, None, now, True)
    previous_start, _ = rules.window_bounds(program, start - timedelta(microseconds=1), tz)
    return Windows(previous_start, start, end, now, False)


def _source(program: Program):
    """(member column, time column, value, filters) of what the metric adds up."""
    if program.metric == "points_earned":
        return (LedgerEntry.member_id, LedgerEntry.created_at, LedgerEntry.amount,
                [LedgerEntry.currency == "points", LedgerEntry.kind.in_(EARNING_KINDS)])
    if program.metric == "spend":
        return (Purchase.member_id, Purchase.occurred_at, Purchase.amount - Purchase.refunded_amount, [])
    return (Purchase.member_id, Purchase.occurred_at, literal(1, BigInteger),
            [Purchase.refunded_amount < Purchase.amount])


# a till's clock may run ahead: the API accepts occurred_at up to a day in the
# future, and such a purchase must still count (and upgrade) at once
CLOCK_SKEW = timedelta(days=1)


def _in_window(time_col, win: Windows, start: datetime):
    if win.rolling:
        return and_(time_col > start, time_col <= win.now + CLOCK_SKEW)
    return and_(time_col >= start, time_col < win.end)


def _not_negative(expr):
    return case((expr < 0, 0), else_=expr)


def metric_query(program: Program, win: Windows, member_id: int | None = None):
    """select(member_id, current, qualifying): one grouped pass over the window.
    `current` is the metric the member sees; `qualifying` the one levels are held
    by (calendar: the better of this period and the last)."""
    member_col, time_col, value, filters = _source(program)
    query = select(member_col.label("member_id")).where(
        *filters, _in_window(time_col, win, win.qualify_start))
    if win.rolling:
        current = func.coalesce(func.sum(value), 0)
        query = query.add_columns(_not_negative(current).label("current"),
                                  _not_negative(current).label("qualifying"))
    else:
        current = func.coalesce(func.sum(case((time_col >= win.current_start, value), else_=0)), 0)
        previous = func.coalesce(func.sum(case((time_col < win.current_start, value), else_=0)), 0)
        query = query.add_columns(
            _not_negative(current).label("current"),
            _not_negative(case((current >= previous, current), else_=previous)).label("qualifying"))
    if member_id is not None:
        query = query.where(member_col == member_id)
    return query.group_by(member_col)


def member_metrics(session: Session, program: Program, member_id: int, now: datetime,
                   tz: str | None = None) -> tuple[int, int]:
    """(current, qualifying) metric of one member."""
    row = session.execute(metric_query(program, windows(program, now, tz), member_id)).first()
    return (int(row.current), int(row.qualifying)) if row else (0, 0)


def member_contributions(session: Session, program: Program, member_id: int, now: datetime,
                         *, horizon_days: int = LEAVING_HORIZON_DAYS, tz: str | None = None):
    """Rolling windows: the (occurred_at, amount) that leave the window within the
    horizon, oldest first (what falls out, and when)."""
    if program.window_kind != "rolling":
        return ()
    win = windows(program, now, tz)
    member_col, time_col, value, filters = _source(program)
    rows = session.execute(
        select(time_col, func.sum(value)).where(
            member_col == member_id, *filters, time_col > win.qualify_start,
            time_col <= win.qualify_start + timedelta(days=horizon_days), time_col <= now)
        .group_by(time_col).order_by(time_col)
    ).all()
    return tuple((when, int(amount)) for when, amount in rows if amount)


# -- a member's level -----------------------------------------------------------------


def _by_id(program: Program) -> dict[int, Level]:
    return {lv.id: lv for lv in program.levels if lv.id is not None}


def member_level(session: Session, member: Member, program: Program | None = None) -> Level | None:
    """The level the member holds (a staff override included); the entry level
    before their first evaluation; None when the club has no program."""
    program = program or load_program(session)
    if program is None:
        return None
    return _by_id(program).get(member.tier_id) or program.levels[0]


def _override_active(member: Member, now: datetime) -> bool:
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
    current, _qualifying = member_metrics(session, program, member.id, now, tz)
    due = member.downgrade_due_at
    if _override_active(member, now):
        due = member.tier_override_until
    elif due is None and program.window_kind == "rolling" and current < level.threshold:
        due = rules.downgrade_due(program, now)  # what the next night would set
    return rules.progress(
        program, level, current, now, tz,
        contributions=member_contributions(session, program, member.id, now, tz=tz),
        downgrade_due_at=due, leaving_horizon_days=LEAVING_HORIZON_DAYS,
    )


def member_history(session: Session, member_id: int, limit: int = 50) -> list[TierHistory]:
    return list(session.scalars(
        select(TierHistory).where(TierHistory.member_id == member_id)
        .order_by(TierHistory.id.desc()).limit(max(1, min(limit, 500)))
    ))


# -- history and inbox rows ----------------------------------------------------------------


def _ts(now: datetime):
    return literal(now, UTCDateTime())


def _history(session, *, member_id, from_id, to_id, reason, metric, actor, key, now) -> bool:
    inserted = session.execute(
        insert_ignoring_duplicates(session, TierHistory)
        .values(member_id=member_id, from_tier_id=from_id, to_tier_id=to_id, reason=reason,
                metric_value=metric, actor=actor, key=key, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"]).returning(TierHistory.id)
    ).first()
    return inserted is not None


def _message(session, *, member_id, kind, params, key, now) -> None:
    inbox.post_message(session, member_id=member_id, kind=kind, params=params, key=key, now=now)


def _change_records(session, member: Member, old: Level | None, new: Level, *, reason: str,
                    key: str, actor: str, metric: int, now: datetime) -> None:
    """A history row and, when the level moved, the member's inbox message."""
    _history(session, member_id=member.id, from_id=old.id if old else None, to_id=new.id,
             reason=reason, metric=metric, actor=actor, key=key, now=now)
    if old is None or new.rank != old.rank:
        kind = "tier_upgrade" if old is None or new.rank > old.rank else "tier_downgrade"
        _message(session, member_id=member.id, kind=kind,
                 params={"from": old.code if old else None, "to": new.code}, key=key, now=now)


def _upgrade_key(member_id: int, tier_id: int, day: str) -> str:
    return f"tier:{member_id}:upgrade:{tier_id}:{day}"


# -- immediate upgrades --------------------------------------------------------------------


def on_qualifying_event(session: Session, member_id: int, *, now: datetime,
                        tz: str | None = None, program: Program | None = None) -> Level | None:
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
    _current, metric = member_metrics(session, program, member_id, now, tz)
    member.tier_metric = metric
    target = rules.qualifying_level(program, metric)
    held = _by_id(program).get(member.tier_id)
    if _override_active(member, now):
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
    _change_records(session, member, held, target, reason="upgrade", actor="system", metric=metric,
                    key=_upgrade_key(member_id, target.id, local_day(now, tz)), now=now)
    return target


def on_points_earned(session: Session, member_id: int, *, kind: str, now: datetime) -> Level | None:
    """`on_qualifying_event` for points entries, only when the program counts them."""
    program = load_program(session)
    if program is None or program.metric != "points_earned" or kind not in EARNING_KINDS:
        return None
    return on_qualifying_event(session, member_id, now=now, program=program)


# -- staff overrides -------------------------------------------------------------------------


def set_override(session: Session, *, member_id: int, tier_code: str | None, until: datetime | None,
                 reason: str, actor: audit.Actor, now: datetime) -> None:
    """Put the member on a level until a date (tier_code), or end the override now
    (tier_code None: the member gets the level their metric earns). Audited."""
    program = load_program(session)
    if program is None:
        raise NoTierProgram()
    if not program.allow_overrides:
        raise OverridesNotAllowed()
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 300:
        raise OverrideReasonRequired()
    member = lock_member(session, member_id)
    by_id = _by_id(program)
    held = by_id.get(member.tier_id)
    before = {"tier": held.code if held else None,
              "override": by_id[member.tier_override_id].code
              if member.tier_override_id in by_id else None,
              "until": member.tier_override_until.isoformat() if member.tier_override_until else None}
    token = secrets.token_hex(6)
    if tier_code is None:
        if member.tier_override_id is None:
            return
        _current, metric = member_metrics(session, program, member_id, now)
        target = rules.qualifying_level(program, metric)
        reason_code = "override_end"
    else:
        target = next((lv for lv in program.levels if lv.code == tier_code), None)
        if target is None:
            raise UnknownTier(tier_code=tier_code)
        if until is None or until.tzinfo is None or until <= now:
            raise InvalidOverride("An override needs an end date in the future.")
        if until > now + timedelta(days=MAX_OVERRIDE_DAYS):
            raise InvalidOverride("An override can last ten years at most.")
        metric = member.tier_metric
        reason_code = "override"
    if held is None or held.id != target.id:
        member.tier_since = now
    member.tier_id = target.id
    member.tier_override_id = target.id if tier_code is not None else None
    member.tier_override_until = until if tier_code is not None else None
    member.tier_metric = metric
    member.downgrade_due_at = None
    session.flush()
    _change_records(session, member, held, target, reason=reason_code, actor=actor.label[:64],
                    metric=metric, key=f"tier:{member_id}:{reason_code}:{token}", now=now)
    audit.record(session, actor, "member.tier_override", "member", member_id, now=now,
                 reason=reason, before=before,
                 after={"tier": target.code,
                        "override": target.code if tier_code is not None else None,
                        "until": until.isoformat() if tier_code is not None else None})
    session.flush()


# -- change preview --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePreview:
    up: int
    down: int
    unchanged: int
    per_level: dict[str, int]  # code -> members on that level after the change


def _rank_for(metric, levels) -> object:
    """CASE over thresholds: the rank a metric qualifies for."""
    whens = [(metric >= lv.threshold, lv.rank) for lv in reversed(levels) if lv.rank > 0]
    return case(*whens, else_=0) if whens else literal(0)


def _id_for(metric, levels) -> object:
    whens = [(metric >= lv.threshold, lv.id) for lv in reversed(levels) if lv.rank > 0]
    return case(*whens, else_=levels[0].id) if whens else literal(levels[0].id)


def _held_rank(levels) -> object:
    """The rank of the level the member holds (-1: never evaluated)."""
    return case({lv.id: lv.rank for lv in levels}, value=Member.tier_id, else_=-1)


def _active_override(now: datetime):
    return and_(Member.tier_override_id.is_not(None),
                or_(Member.tier_override_until.is_(None), Member.tier_override_until > now))


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
    held = _held_rank(current.levels) if current else literal(-1)
    held = case((held < 0, 0), (held > top, top), else_=held)
    proposed = _rank_for(metric, program.levels)
    after = case((_active_override(now), held), else_=proposed)
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


# -- the nightly evaluation ------------------------------------------------------------------


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


def _expire_members(session: Session) -> None:
    """Bulk UPDATEs skip the identity map: reload members loaded before them."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Member):
            session.expire(obj)


def _json_object(session: Session, **pairs):
    build = func.json_build_object if session.get_bind().dialect.name == "postgresql" else func.json_object
    args = []
    for name, value in pairs.items():
        args += [cast(literal(name), String), value]
    return build(*args)


class _Night:
    """The set-based statements of one evaluation run. Every statement works on
    `member` columns only (the metric is stored first), so each is one pass."""

    def __init__(self, session: Session, program: Program, now: datetime, tz: str):
        self.session, self.program, self.now, self.tz = session, program, now, tz
        self.day = local_day(now, tz)
        self.levels = program.levels
        self.eligible = Member.status != "closed"
        self.held_rank = _held_rank(self.levels)
        self.target_rank = _rank_for(Member.tier_metric, self.levels)
        self.target_id = _id_for(Member.tier_metric, self.levels)
        self.override = _active_override(now)

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
                       _ts(self.now)).where(where),
            ).on_conflict_do_nothing(index_elements=["key"])
        )

    def messages(self, where, kind, params, reason: str, *, with_target: bool = False, join=None):
        source = select(Member.id, kind, params, self.key(reason, with_target), _ts(self.now))
        if join is not None:
            source = source.select_from(Member).outerjoin(*join)
        self.session.execute(
            insert_ignoring_duplicates(self.session, InboxMessage).from_select(
                ["member_id", "kind", "params", "key", "created_at"], source.where(where),
            ).on_conflict_do_nothing(index_elements=["key"])
        )

    def update(self, where, **values) -> int:
        return self.session.execute(
            update(Member).where(where).values(**values).execution_options(synchronize_session=False)
        ).rowcount

    def moved_params(self):
        return _json_object(self.session, **{"from": self.code_of_held(), "to": self.code_of_target()})


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
    held, target = night.held_rank, night.target_rank

    # 1. overrides that have ended: back to the level the metric earns, at once
    ended = and_(night.eligible, Member.tier_override_id.is_not(None),
                 Member.tier_override_until <= now)
    night.history(ended, "override_end")
    night.messages(and_(ended, target != held),
                   case((target > held, "tier_upgrade"), else_="tier_downgrade"),
                   night.moved_params(), "override_end")
    overrides_ended = night.update(
        ended,
        tier_since=case((Member.tier_id == night.target_id, Member.tier_since), else_=_ts(now)),
        tier_id=night.target_id, tier_override_id=None, tier_override_until=None,
        downgrade_due_at=None)

    # 2. upgrades (an active override wins: it is left alone until it ends)
    rises = and_(night.eligible, target > held, not_(night.override))
    told = and_(rises, target > 0)  # a first evaluation at the entry level is silent
    upgraded = session.scalar(select(func.count()).select_from(Member).where(told)) or 0
    night.history(told, "upgrade", with_target=True)
    night.messages(told, literal("tier_upgrade"), night.moved_params(), "upgrade", with_target=True)
    night.update(rises, tier_id=night.target_id, tier_since=now, downgrade_due_at=None)

    # 3. members in grace who qualify again
    requalified = night.update(
        and_(night.eligible, Member.downgrade_due_at.is_not(None), target >= held,
             not_(night.override)), downgrade_due_at=None)

    # 4. newly at risk: the grace starts (with no grace, step 5 follows at once)
    below = and_(night.eligible, target < held, not_(night.override))
    newly = and_(below, Member.downgrade_due_at.is_(None))
    due = rules.downgrade_due(program, now)
    at_risk = 0
    if program.grace_days > 0:
        night.history(newly, "at_risk")
        threshold = case({lv.id: lv.threshold for lv in night.levels}, value=Member.tier_id, else_=0)
        join = None
        current = Member.tier_metric
        if program.window_kind == "calendar":
            # to keep the level the member must reach it again in this period
            sq = metric_query(program, windows(program, now, tz)).subquery()
            join = (sq, sq.c.member_id == Member.id)
            current = func.coalesce(sq.c.current, 0)
        keep_needed = cast(_not_negative(threshold - current), BigInteger)
        night.messages(newly, literal("tier_at_risk"), _json_object(
            session, tier=night.code_of_held(), keep_needed=keep_needed,
            keep_by=cast(literal(due.isoformat()), String)), "at_risk", join=join)
        at_risk = night.update(newly, downgrade_due_at=due)
    else:
        night.update(newly, downgrade_due_at=now)

    # 5. grace over: down to the level the metric earns
    falls = and_(below, Member.downgrade_due_at <= now)
    night.history(falls, "downgrade")
    night.messages(falls, literal("tier_downgrade"), night.moved_params(), "downgrade")
    downgraded = night.update(falls, tier_id=night.target_id, tier_since=now, downgrade_due_at=None)

    members = session.scalar(select(func.count()).select_from(Member).where(night.eligible))
    _expire_members(session)
    return EvaluationResult(
        day=night.day, members=members or 0, metric_changed=metric_changed, upgraded=upgraded,
        at_risk=at_risk, requalified=requalified, downgraded=downgraded,
        overrides_ended=overrides_ended)


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
