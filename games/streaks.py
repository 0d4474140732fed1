"""Daily streaks: how many days in a row a member has checked in.

The caller gives the previous state and the member's *local* date (the club's
time zone decides when a day starts); the engine returns the new state. Same
day: nothing changes. Next day: the streak grows by one. A longer gap breaks
it, unless the missed days fit within the rule's grace days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import Enum


class Outcome(str, Enum):
    STARTED = "started"  # first check-in ever, or the first after a broken streak
    EXTENDED = "extended"  # the streak grew by one day
    ALREADY_TODAY = "already_today"  # second check-in on the same day: no change
    STALE = "stale"  # a date before the last check-in (clock skew, replays): no change


@dataclass(frozen=True)
class StreakRule:
    """`grace_days`: how many missed days in a row a streak survives (0 = none).
    Missed days do not count towards the streak; they only keep it alive."""

    grace_days: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.grace_days, bool) or not isinstance(self.grace_days, int):
            raise TypeError("grace_days must be an integer")
        if self.grace_days < 0:
            raise ValueError("grace_days cannot be negative")


@dataclass(frozen=True)
class Streak:
    current: int = 0  # days counted in the running streak
    longest: int = 0  # the best streak ever reached
    last_day: date | None = None  # the local date of the last counted check-in

    def __post_init__(self) -> None:
        if self.current < 0 or self.longest < self.current:
            raise ValueError("need 0 <= current <= longest")
        if (self.last_day is None) != (self.current == 0):
            raise ValueError("a streak has a last day exactly when it is running")


@dataclass(frozen=True)
class CheckIn:
    streak: Streak
    outcome: Outcome

    @property
    def counted(self) -> bool:
        """Whether this check-in counted (worth rewarding); replays never do."""
        return self.outcome in (Outcome.STARTED, Outcome.EXTENDED)


NO_STREAK = Streak()


def check_in(previous: Streak, day: date, rule: StreakRule = StreakRule()) -> CheckIn:
    """The streak after a check-in on `day`."""
    last = previous.last_day
    if last is not None:
        gap = (day - last).days
        if gap == 0:
            return CheckIn(previous, Outcome.ALREADY_TODAY)
        if gap < 0:
            return CheckIn(previous, Outcome.STALE)
        if gap - 1 <= rule.grace_days:
            current = previous.current + 1
            streak = replace(previous, current=current, longest=max(previous.longest, current),
                             last_day=day)
            return CheckIn(streak, Outcome.EXTENDED)
    streak = Streak(current=1, longest=max(previous.longest, 1), last_day=day)
    return CheckIn(streak, Outcome.STARTED)


def current_length(state: Streak, today: date, rule: StreakRule = StreakRule()) -> int:
    """The streak to show on `today`: 0 once it can no longer be extended."""
    if state.last_day is None:
        return 0
    missed = (today - state.last_day).days - 1
    return state.current if missed <= rule.grace_days else 0


def replay(days: list[date], rule: StreakRule = StreakRule(), start: Streak = NO_STREAK) -> Streak:
    """Fold check-ins in the order given (rebuilding a streak from stored check-ins)."""
    state = start
    for day in days:
        state = check_in(state, day, rule).streak
    return state
