"""The pure tier rules: levels, windows (rolling, Jalali and Gregorian calendar
periods at local midnight), grace and what the member sees. No app, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.errors import Problem
from webapp.services.tiers import rules as tier_rules
from webapp.services.tiers.rules import Level, Program

TEHRAN = "Asia/Tehran"
TZ = ZoneInfo(TEHRAN)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 13:00 on 4 Azar 1405 in Tehran

LEVELS = (
    Level(0, "bronze", "برنزی", "Bronze", 0, 10_000),
    Level(1, "silver", "نقره‌ای", "Silver", 1_000, 11_000),
    Level(2, "gold", "طلایی", "Gold", 4_000, 12_500),
    Level(3, "platinum", "پلاتینی", "Platinum", 10_000, 15_000),
)


def rolling(days=365, grace=30, levels=LEVELS) -> Program:
    return Program("points_earned", "rolling", levels, window_days=days, grace_days=grace)


def calendar(period, system="jalali", levels=LEVELS) -> Program:
    return Program("spend", "calendar", levels, calendar_period=period, calendar_system=system)


def tehran(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


# -- levels ------------------------------------------------------------------------------


@pytest.mark.parametrize(("metric", "code"), [
    (0, "bronze"), (999, "bronze"), (1_000, "silver"), (3_999, "silver"), (4_000, "gold"),
    (9_999, "gold"), (10_000, "platinum"), (10**12, "platinum"),
])
def test_a_threshold_reached_exactly_earns_the_level(metric, code):
    assert tier_rules.qualifying_level(rolling(), metric).code == code


def test_the_level_above_the_top_is_none():
    program = rolling()
    assert tier_rules.level_above(program, LEVELS[2]) == LEVELS[3]
    assert tier_rules.level_above(program, LEVELS[3]) is None


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_more_metric_never_earns_a_lower_level(a, b):
    program = rolling()
    low, high = sorted((a, b))
    assert tier_rules.qualifying_level(program, low).rank <= tier_rules.qualifying_level(program, high).rank


@given(st.integers(min_value=0, max_value=10**9))
def test_the_level_earned_is_the_highest_threshold_reached(metric):
    program = rolling()
    level = tier_rules.qualifying_level(program, metric)
    above = tier_rules.level_above(program, level)
    assert level.threshold <= metric
    assert above is None or metric < above.threshold


@pytest.mark.parametrize(("points", "bp", "expected"), [
    (100, 10_000, 100), (100, 15_000, 150), (7, 12_500, 8), (3, 11_000, 3), (0, 15_000, 0),
    (999, 0, 0),
])
def test_multipliers_are_integer_and_round_down(points, bp, expected):
    assert tier_rules.apply_multiplier(points, bp) == expected


# -- validation ------------------------------------------------------------------------


def test_a_valid_program_has_no_problems():
    assert tier_rules.check_program(rolling()) == []
    assert tier_rules.validate_program(calendar("quarter")) == calendar("quarter")


@pytest.mark.parametrize(("program", "problem"), [
    (rolling(levels=(LEVELS[0], LEVELS[2], LEVELS[1])),
     Problem("levels-2-threshold", "threshold_not_above", {"threshold": 4000})),
    (rolling(levels=(LEVELS[0], Level(1, "silver", "ن", "S", 0))), Problem("levels-0-threshold", "entry_threshold")),
    (rolling(levels=(Level(0, "a", "ا", "A", 5),)), Problem("levels-0-threshold", "entry_threshold")),
    (rolling(levels=(LEVELS[0], Level(2, "gold", "ط", "G", 10))), Problem("levels", "level_ranks")),
    (rolling(levels=(LEVELS[0], Level(1, "bronze", "ن", "S", 10))), Problem("levels-1-code", "level_codes")),
    (rolling(levels=(LEVELS[0], Level(1, "silver", " ", "Silver", 10))),
     Problem("levels-1-name_en", "names_required")),
    (rolling(levels=(LEVELS[0], Level(1, "silver", "ن", "S", 10, 100_001))),
     Problem("levels-1-earn_multiplier_bp", "multiplier_range")),
    (rolling(levels=()), Problem("", "no_levels")),
    (rolling(days=0), Problem("window_days", "window_days_range")),
    (rolling(grace=400), Problem("grace_days", "grace_days_range")),
    (calendar("week"), Problem("calendar_period", "calendar_period_choice")),
    (calendar("month", system="lunar"), Problem("calendar_system", "calendar_system_choice")),
    (Program("visits", "rolling", LEVELS), Problem("metric", "unknown_metric")),
])
def test_invalid_programs_are_explained_field_by_field(program, problem):
    problems = tier_rules.check_program(program)
    assert problem in problems
    assert next(p for p in problems if p == problem).params == problem.params
    with pytest.raises(tier_rules.ProgramInvalid) as info:
        tier_rules.validate_program(program)
    assert problem in info.value.problems


# -- windows -----------------------------------------------------------------------------


def test_a_rolling_window_slides_and_has_no_end():
    assert tier_rules.window_bounds(rolling(90), NOW, TEHRAN) == (NOW - timedelta(days=90), None)


def test_a_contribution_leaves_a_rolling_window_exactly_n_days_later():
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert tier_rules.leaves_window_at(rolling(90), when) == when + timedelta(days=90)
    assert tier_rules.leaves_window_at(calendar("month"), when) is None


@pytest.mark.parametrize(("period", "start", "end"), [
    ("month", tehran(2026, 11, 22), tehran(2026, 12, 22)),     # 1 Azar → 1 Dey 1405
    ("quarter", tehran(2026, 9, 23), tehran(2026, 12, 22)),    # autumn: 1 Mehr → 1 Dey
    ("year", tehran(2026, 3, 21), tehran(2027, 3, 21)),        # Nowruz to Nowruz
])
def test_jalali_periods_start_at_local_midnight(period, start, end):
    assert tier_rules.window_bounds(calendar(period), NOW, TEHRAN) == (start, end)


@pytest.mark.parametrize(("period", "start", "end"), [
    ("month", tehran(2026, 11, 1), tehran(2026, 12, 1)),
    ("quarter", tehran(2026, 10, 1), tehran(2027, 1, 1)),
    ("year", tehran(2026, 1, 1), tehran(2027, 1, 1)),
])
def test_gregorian_periods_start_at_local_midnight(period, start, end):
    assert tier_rules.window_bounds(calendar(period, "gregorian"), NOW, TEHRAN) == (start, end)


def test_the_jalali_month_turns_at_tehran_midnight_not_utc_midnight():
    program = calendar("month")
    last_minute = datetime(2026, 11, 21, 20, 29, tzinfo=UTC)  # 23:59 on 30 Aban in Tehran
    first_minute = datetime(2026, 11, 21, 20, 30, tzinfo=UTC)  # 00:00 on 1 Azar
    assert tier_rules.window_bounds(program, last_minute, TEHRAN)[1] == tehran(2026, 11, 22)
    assert tier_rules.window_bounds(program, first_minute, TEHRAN)[0] == tehran(2026, 11, 22)
    assert tehran(2026, 11, 22) == first_minute


def test_esfand_has_thirty_days_in_a_leap_year_and_twenty_nine_otherwise():
    program = calendar("month")
    leap_start, leap_end = tier_rules.window_bounds(program, tehran(2025, 3, 20, 23), TEHRAN)
    assert (leap_start, leap_end) == (tehran(2025, 2, 19), tehran(2025, 3, 21))
    assert (leap_end - leap_start).days == 30
    start, end = tier_rules.window_bounds(program, tehran(2026, 3, 1), TEHRAN)
    assert (end - start).days == 29 and end == tehran(2026, 3, 21)


def test_the_last_jalali_quarter_runs_from_dey_to_nowruz():
    start, end = tier_rules.window_bounds(calendar("quarter"), tehran(2027, 3, 20, 23, 59), TEHRAN)
    assert (start, end) == (tehran(2026, 12, 22), tehran(2027, 3, 21))


def test_a_gregorian_year_turns_at_local_new_year():
    program = calendar("year", "gregorian")
    eve = datetime(2026, 12, 31, 20, 29, tzinfo=UTC)  # 23:59 in Tehran
    assert tier_rules.window_bounds(program, eve, TEHRAN) == (tehran(2026, 1, 1), tehran(2027, 1, 1))
    assert tier_rules.window_bounds(program, eve + timedelta(minutes=1), TEHRAN)[0] == tehran(2027, 1, 1)


# Iran has had no daylight saving since 2022 (before, 1 Farvardin's midnight did not exist)
@given(
    st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(tier_rules.CALENDAR_PERIODS),
    st.sampled_from(tier_rules.CALENDAR_SYSTEMS),
)
def test_every_calendar_period_contains_now_and_starts_at_local_midnight(now, period, system):
    start, end = tier_rules.window_bounds(calendar(period, system), now, TEHRAN)
    assert start <= now < end
    for edge in (start, end):
        local = edge.astimezone(TZ)
        assert (local.hour, local.minute, local.second) == (0, 0, 0)
    days = (end.astimezone(TZ).date() - start.astimezone(TZ).date()).days
    assert {"month": 28 <= days <= 31, "quarter": 89 <= days <= 93,
            "year": 365 <= days <= 366}[period]
    # the next period starts exactly where this one ends
    assert tier_rules.window_bounds(calendar(period, system), end, TEHRAN)[0] == end


# -- grace and progress --------------------------------------------------------------------


def test_the_downgrade_falls_due_exactly_after_the_grace():
    assert tier_rules.downgrade_due(rolling(grace=30), NOW) == NOW + timedelta(days=30)
    assert tier_rules.downgrade_due(rolling(grace=0), NOW) == NOW


def test_progress_shows_the_exact_amount_still_needed_and_the_gain():
    p = tier_rules.progress(rolling(), LEVELS[1], 2_500, NOW, TEHRAN)
    assert (p.current.code, p.next.code, p.metric) == ("silver", "gold", 2_500)
    assert p.needed == 1_500
    assert p.percent == 50  # halfway from 1,000 to 4,000
    assert p.multiplier_gain_bp == 1_500
    assert not p.at_risk and p.keep_needed == 0 and p.keep_by is None
    assert p.deadline is None  # rolling: no period end


def test_progress_at_a_threshold_exactly_is_zero_percent_of_the_next_step():
    p = tier_rules.progress(rolling(), LEVELS[2], 4_000, NOW, TEHRAN)
    assert (p.needed, p.percent, p.at_risk) == (6_000, 0, False)


def test_the_top_level_shows_what_keeps_it():
    due = NOW + timedelta(days=12)
    p = tier_rules.progress(rolling(), LEVELS[3], 9_000, NOW, TEHRAN, downgrade_due_at=due)
    assert p.next is None and p.needed == 0 and p.percent == 100
    assert p.at_risk and p.keep_needed == 1_000 and p.keep_by == due


def test_a_calendar_program_gives_the_period_end_as_the_deadline():
    p = tier_rules.progress(calendar("month"), LEVELS[1], 500, NOW, TEHRAN)
    assert p.deadline == tehran(2026, 12, 22)
    assert p.at_risk and p.keep_needed == 500 and p.keep_by == tehran(2026, 12, 22)


def test_progress_lists_what_leaves_a_rolling_window_soonest_first():
    program = rolling(90)
    contributions = (
        (NOW - timedelta(days=85), 300),   # leaves in 5 days
        (NOW - timedelta(days=60), 200),   # leaves in 30 days
        (NOW - timedelta(days=20), 100),   # leaves in 70 days: beyond the horizon
        (NOW - timedelta(days=89), 0),     # nothing to lose
    )
    p = tier_rules.progress(program, LEVELS[1], 1_100, NOW, TEHRAN, contributions=contributions,
                            leaving_horizon_days=60)
    assert p.leaving == ((NOW + timedelta(days=5), 300), (NOW + timedelta(days=30), 200))
