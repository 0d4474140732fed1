"""The daily-streak engine, pure: no app, no database."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from games.streaks import (
    NO_STREAK,
    CheckIn,
    Outcome,
    Streak,
    StreakRule,
    check_in,
    current_length,
    replay,
)

DAY = date(2026, 3, 20)  # Nowruz 1405: any date will do
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
rules = st.builds(StreakRule, grace_days=st.integers(0, 3))
# check-in days as increasing offsets, gaps of 0 (same day) to 6 days
gaps = st.lists(st.integers(0, 6), max_size=40)


def days_from(start: date, gap_list: list[int]) -> list[date]:
    out, day = [], start
    for gap in gap_list:
        day += timedelta(days=gap)
        out.append(day)
    return out


def reference_current(check_ins: list[date], grace: int) -> int:
    """The specification, written the slow obvious way: distinct days, counted
    back from the last one while every gap leaves at most `grace` days missed."""
    distinct = sorted(set(check_ins))
    if not distinct:
        return 0
    run = 1
    for later, earlier in zip(reversed(distinct), reversed(distinct[:-1]), strict=False):
        if (later - earlier).days - 1 > grace:
            break
        run += 1
    return run


def test_first_check_in_starts_a_streak_of_one():
    result = check_in(NO_STREAK, DAY)
    assert result == CheckIn(Streak(current=1, longest=1, last_day=DAY), Outcome.STARTED)
    assert result.counted


def test_next_day_extends_and_same_day_changes_nothing():
    one = check_in(NO_STREAK, DAY).streak
    two = check_in(one, DAY + timedelta(days=1))
    assert two.outcome is Outcome.EXTENDED and two.streak.current == 2
    again = check_in(two.streak, DAY + timedelta(days=1))
    assert again.outcome is Outcome.ALREADY_TODAY and again.streak == two.streak
    assert not again.counted


def test_a_missed_day_resets_without_grace_and_keeps_the_record():
    state = replay([DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)])
    result = check_in(state, DAY + timedelta(days=4))
    assert result.outcome is Outcome.STARTED
    assert result.streak == Streak(current=1, longest=3, last_day=DAY + timedelta(days=4))


def test_grace_days_keep_the_streak_alive_but_do_not_count():
    rule = StreakRule(grace_days=2)
    state = replay([DAY, DAY + timedelta(days=3)], rule)  # two days missed: survives
    assert state.current == 2
    broken = check_in(state, DAY + timedelta(days=7), rule)  # three missed: too many
    assert broken.outcome is Outcome.STARTED and broken.streak.current == 1


def test_an_earlier_date_is_stale_and_changes_nothing():
    state = replay([DAY, DAY + timedelta(days=1)])
    result = check_in(state, DAY - timedelta(days=5))
    assert result.outcome is Outcome.STALE and result.streak == state


def test_current_length_drops_to_zero_once_the_streak_cannot_be_saved():
    state = replay([DAY, DAY + timedelta(days=1)])
    assert current_length(state, DAY + timedelta(days=2)) == 2  # today still counts
    assert current_length(state, DAY + timedelta(days=3)) == 0
    assert current_length(state, DAY + timedelta(days=3), StreakRule(grace_days=1)) == 2
    assert current_length(NO_STREAK, DAY) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_grace_days_must_be_a_non_negative_integer(bad):
    with pytest.raises((TypeError, ValueError)):
        StreakRule(grace_days=bad)


def test_inconsistent_states_are_refused():
    with pytest.raises(ValueError):
        Streak(current=3, longest=2, last_day=DAY)
    with pytest.raises(ValueError):
        Streak(current=1, longest=1, last_day=None)


@given(start=days, gap_list=gaps, rule=rules)
def test_streak_matches_the_reference_definition(start, gap_list, rule):
    check_ins = days_from(start, gap_list)
    state = replay(check_ins, rule)
    assert state.current == reference_current(check_ins, rule.grace_days)
    assert state.last_day == (check_ins[-1] if check_ins else None)


@given(start=days, gap_list=gaps, rule=rules)
def test_longest_is_the_best_current_ever_seen(start, gap_list, rule):
    state, best = NO_STREAK, 0
    for day in days_from(start, gap_list):
        state = check_in(state, day, rule).streak
        best = max(best, state.current)
        assert 0 < state.current <= state.longest == best


@given(start=days, gap_list=gaps, rule=rules)
def test_checking_in_twice_on_a_day_is_the_same_as_once(start, gap_list, rule):
    check_ins = days_from(start, gap_list)
    doubled = [d for day in check_ins for d in (day, day)]
    assert replay(doubled, rule) == replay(check_ins, rule)


@given(start=days, gap_list=gaps, extra=st.integers(0, 3))
def test_more_grace_never_shortens_a_streak(start, gap_list, extra):
    check_ins = days_from(start, gap_list)
    strict = replay(check_ins, StreakRule(0))
    lenient = replay(check_ins, StreakRule(extra))
    assert lenient.current >= strict.current and lenient.longest >= strict.longest


@given(start=days, gap_list=gaps, rule=rules, earlier=st.integers(1, 400))
def test_a_date_before_the_last_check_in_never_changes_the_state(start, gap_list, rule, earlier):
    state = replay(days_from(start, [0, *gap_list]), rule)
    result = check_in(state, state.last_day - timedelta(days=earlier), rule)
    assert result.streak == state and not result.counted


@given(start=days, gap_list=gaps, rule=rules, later=st.integers(0, 10))
def test_shown_length_is_what_the_next_check_in_would_continue(start, gap_list, rule, later):
    state = replay(days_from(start, [0, *gap_list]), rule)
    today = state.last_day + timedelta(days=later)
    shown = current_length(state, today, rule)
    nxt = check_in(state, today + timedelta(days=1), rule).streak.current
    # a streak still shown tomorrow-continues it; a streak shown as 0 restarts at 1
    if current_length(state, today + timedelta(days=1), rule):
        assert nxt == state.current + 1 and shown == state.current
    else:
        assert nxt == 1
