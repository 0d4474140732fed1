"""Tier rules as pure functions: which level a metric earns, the qualifying
window, and what a member sees about their progress. No database here:
`services.tiers` feeds these from the tables, views render the results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from webapp.models.tier import CALENDAR_PERIODS, DEFAULT_COLOR, ICONS, METRICS, WINDOW_KINDS  # noqa: F401  (the program's vocabulary)
from webapp.services.errors import Problem

CALENDAR_SYSTEMS = ("jalali", "gregorian")
MAX_MULTIPLIER_BP = 100_000  # ×10
BP = 10_000  # basis points in 1


@dataclass(frozen=True)
class Level:
    rank: int
    code: str
    name_fa: str
    name_en: str
    threshold: int
    earn_multiplier_bp: int = BP
    id: int | None = None
    color: str = DEFAULT_COLOR
    icon: str = ICONS[0]
    benefits: tuple[dict, ...] = ()
    perks: dict = field(default_factory=dict, hash=False, compare=False)

    def name(self, locale: str) -> str:
        return self.name_fa if locale == "fa" else self.name_en


@dataclass(frozen=True)
class Program:
    metric: str
    window_kind: str
    levels: tuple[Level, ...]  # sorted by rank, rank 0 first
    window_days: int = 365
    calendar_period: str | None = None
    calendar_system: str = "jalali"
    grace_days: int = 30
    allow_overrides: bool = True
    rebate_money_per_point: int = 0


class ProgramInvalid(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


def check_program(program: Program) -> list[Problem]:
    """Every problem with the program, as (field, code) with a level's fields
    named `levels-<rank>-<field>` (empty when valid)."""
    problems: list[Problem] = []
    for ok, name, code in (
        (program.metric in METRICS, "metric", "unknown_metric"),
        (program.window_kind in WINDOW_KINDS, "window_kind", "unknown_window"),
        (program.window_kind != "rolling" or 1 <= program.window_days <= 3650, "window_days", "window_days_range"),
        (program.window_kind != "calendar" or program.calendar_period in CALENDAR_PERIODS, "calendar_period",
         "calendar_period_choice"),
        (program.window_kind != "calendar" or program.calendar_system in CALENDAR_SYSTEMS, "calendar_system",
         "calendar_system_choice"),
        (0 <= program.grace_days <= 365, "grace_days", "grace_days_range"),
    ):
        if not ok:
            problems.append(Problem(name, code))
    levels = program.levels
    if not levels:
        return [*problems, Problem("", "no_levels")]
    return problems + _level_problems(levels)


def _level_problems(levels: tuple[Level, ...]) -> list[Problem]:
    problems: list[Problem] = []
    if [lv.rank for lv in levels] != list(range(len(levels))):
        problems.append(Problem("levels", "level_ranks"))
    entry = [lv for lv in levels if lv.threshold == 0]
    if len(entry) != 1 or levels[0].threshold != 0:
        problems.append(Problem("levels-0-threshold", "entry_threshold"))
    for n, (lower, higher) in enumerate(zip(levels, levels[1:], strict=False), start=1):
        if higher.threshold <= lower.threshold:
            problems.append(Problem(f"levels-{n}-threshold", "threshold_not_above", {"threshold": lower.threshold}))
    codes = [lv.code for lv in levels]
    for n, code in enumerate(codes):
        if codes.count(code) > 1 or not code:
            problems.append(Problem(f"levels-{n}-code", "level_codes"))
    for n, lv in enumerate(levels):
        if not lv.name_fa.strip() or not lv.name_en.strip():
            problems.append(Problem(f"levels-{n}-name_en", "names_required"))
        if not 0 <= lv.earn_multiplier_bp <= MAX_MULTIPLIER_BP:
            problems.append(Problem(f"levels-{n}-earn_multiplier_bp", "multiplier_range"))
    return problems


def validate_program(program: Program) -> Program:
    problems = check_program(program)
    if problems:
        raise ProgramInvalid(problems)
    return program


def qualifying_level(program: Program, metric: int) -> Level:
    """The highest level whose threshold the metric reaches."""
    best = program.levels[0]
    for level in program.levels:
        if metric >= level.threshold:
            best = level
    return best


def level_above(program: Program, level: Level) -> Level | None:
    return program.levels[level.rank + 1] if level.rank + 1 < len(program.levels) else None


def _month_index(year: int, month: int, period: str) -> tuple[int, int]:
    """(year, first month) of the month/quarter/year containing `month`."""
    if period == "quarter":
        return year, 3 * ((month - 1) // 3) + 1
    if period == "year":
        return year, 1
    return year, month


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = month - 1 + months
    return year + index // 12, index % 12 + 1


def _period(local: datetime, period: str, system: str) -> tuple[datetime, datetime]:
    """Local-midnight start and end of the calendar period containing `local`.
    Jalali quarters are the seasons; the Jalali year starts at Nowruz."""
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    tz = local.tzinfo
    if system == "jalali":
        j = jdatetime.date.fromgregorian(date=local.date())
        y, m = _month_index(j.year, j.month, period)
        ny, nm = _shift(y, m, months)
        start = jdatetime.date(y, m, 1).togregorian()
        end = jdatetime.date(ny, nm, 1).togregorian()
    else:
        y, m = _month_index(local.year, local.month, period)
        ny, nm = _shift(y, m, months)
        start = local.date().replace(year=y, month=m, day=1)
        end = start.replace(year=ny, month=nm)
    return (
        datetime(start.year, start.month, start.day, tzinfo=tz),
        datetime(end.year, end.month, end.day, tzinfo=tz),
    )


def window_bounds(program: Program, now: datetime, tz: str) -> tuple[datetime, datetime | None]:
    """(start, end) of the window the metric counts in. A rolling window has no
    end (it slides); a calendar window ends when the period does (periods start at
    local midnight in the club's time zone)."""
    if program.window_kind == "rolling":
        return now - timedelta(days=program.window_days), None
    local = now.astimezone(ZoneInfo(tz))
    return _period(local, program.calendar_period or "year", program.calendar_system)


def leaves_window_at(program: Program, occurred_at: datetime) -> datetime | None:
    """When a contribution stops counting (rolling windows only)."""
    if program.window_kind != "rolling":
        return None
    return occurred_at + timedelta(days=program.window_days)


@dataclass(frozen=True)
class Progress:
    current: Level
    next: Level | None
    metric: int
    needed: int  # more of the metric for the next level (0 at the top)
    percent: int  # 0..100 of the way from the current level to the next
    deadline: datetime | None  # calendar: the period's end; rolling: none
    leaving: tuple[tuple[datetime, int], ...]  # rolling: (date it leaves, amount) soonest first
    at_risk: bool  # holding a level the metric no longer reaches
    keep_needed: int  # more of the metric to keep the current level
    keep_by: datetime | None  # when the downgrade would happen
    multiplier_gain_bp: int  # what the next level adds to the earn multiplier


def progress(
    program: Program,
    current: Level,
    metric: int,
    now: datetime,
    tz: str,
    *,
    contributions: tuple[tuple[datetime, int], ...] = (),
    downgrade_due_at: datetime | None = None,
    leaving_horizon_days: int = 60,
) -> Progress:
    """What the member sees on /me. `contributions` are the (occurred_at, amount)
    counted in the current rolling window; those leaving within the horizon are
    listed so the member knows what falls out and when."""
    _start, end = window_bounds(program, now, tz)
    nxt = level_above(program, current)
    needed = max(0, nxt.threshold - metric) if nxt else 0
    if nxt:
        span = nxt.threshold - current.threshold
        percent = max(0, min(100, (metric - current.threshold) * 100 // span)) if span > 0 else 100
    else:
        percent = 100
    horizon = now + timedelta(days=leaving_horizon_days)
    leaving = []
    for occurred_at, amount in sorted(contributions):
        leaves = leaves_window_at(program, occurred_at)
        if leaves is not None and now < leaves <= horizon and amount:
            leaving.append((leaves, amount))
    keep_needed = max(0, current.threshold - metric)
    at_risk = keep_needed > 0
    keep_by = downgrade_due_at if downgrade_due_at else end
    gain = (nxt.earn_multiplier_bp - current.earn_multiplier_bp) if nxt else 0
    return Progress(
        current=current, next=nxt, metric=metric, needed=needed, percent=percent,
        deadline=end, leaving=tuple(leaving), at_risk=at_risk, keep_needed=keep_needed,
        keep_by=keep_by if at_risk or nxt is None else None, multiplier_gain_bp=gain,
    )


def apply_multiplier(points: int, multiplier_bp: int) -> int:
    """Points × a basis-point multiplier, rounded down (integers only)."""
    return points * multiplier_bp // BP


def downgrade_due(program: Program, now: datetime) -> datetime:
    """When a member who stops qualifying today loses the level."""
    return now + timedelta(days=program.grace_days)
