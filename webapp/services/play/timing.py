"""The submission-time tie-break of a contest's leaderboard.

Decision: the Redis board packs (score, elapsed, submission time) exactly
below 2**53 (`games.leaderboard.sorted_set_score`), and the submission time is
counted in a per-contest unit: the finest of 1 ms, 10 ms, 100 ms, 1 s, 1 min
that lets the whole opening period fit next to the contest's score and elapsed
bounds. A quiz open for 30 minutes ranks by the millisecond; one open for a
week by the 100 ms or the second. The unit is fixed when the contest is
published (and again if its questions change before anyone plays), stored on
the contest, and the *same* quantised time (`ContestEntry.tie_time`) is what the
final ranks from the database use, so the live board and `rank_entries` agree
exactly, ties included: two members finishing with the same score and elapsed
time in the same unit share a rank."""

from __future__ import annotations

from datetime import datetime

from games.leaderboard import EXACT_DOUBLE_LIMIT, SortedSetLayout

UNITS_MS = (1, 10, 100, 1000, 60_000)


def duration_ms(opens_at: datetime, closes_at: datetime) -> int:
    return max(1, int((closes_at - opens_at).total_seconds() * 1000))


def tie_unit_ms(max_score: int, max_elapsed_ms: int, period_ms: int) -> int:
    """The finest unit in which the period fits the 53 bits left by the score and elapsed bounds."""
    room = EXACT_DOUBLE_LIMIT // ((max_score + 1) * (max_elapsed_ms + 1))
    for unit in UNITS_MS:
        if -(-period_ms // unit) + 1 <= room:
            return unit
    raise ValueError("the contest is too long or its scores too large for an exact leaderboard")


def layout(max_score: int, max_elapsed_ms: int, period_ms: int, unit_ms: int) -> SortedSetLayout:
    return SortedSetLayout(max_score=max_score, max_elapsed_ms=max_elapsed_ms,
                           horizon_ms=-(-period_ms // unit_ms))


def tie_time(opens_at: datetime, closes_at: datetime, when: datetime, unit_ms: int) -> int:
    """`when` in units since the opening, clamped to the period (what the board orders by)."""
    elapsed = int((when - opens_at).total_seconds() * 1000)
    return min(max(0, elapsed), duration_ms(opens_at, closes_at)) // unit_ms
