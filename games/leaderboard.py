"""Leaderboard ranking, shared by quiz and prediction contests.

Order: score (higher first), then total elapsed ms (less first), then
submission time (earlier first), then member id (only to make the listing
deterministic). Ranks are competition ranks ("1, 2, 2, 4"): entries share a
rank only when score, elapsed ms AND submission time are all equal; the member
id never decides a rank. So rank = 1 + the number of entries strictly better,
which is exactly what Redis gives for `ZCOUNT key (encoded +inf` + 1 on the
numbers from `sorted_set_score` (equal number <=> equal rank).

`sorted_set_score` packs (score, elapsed, submission time) into one integer
below 2**53, so a Redis double holds it exactly and ZSET order (descending)
reproduces the rule. 53 bits do not fit everything at millisecond precision,
so the bounds are a `SortedSetLayout` sized per contest, checked on creation
((max_score+1) * (max_elapsed_ms+1) * (horizon_ms+1) <= 2**53) and asserted on
every encode. `submitted_at_ms` is measured from an origin the caller picks
(the contest's opening), not the Unix epoch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EXACT_DOUBLE_LIMIT = 2**53  # integers 0 .. 2**53 - 1 are exact in an IEEE double


def _require_int(name: str, value: object, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")


@dataclass(frozen=True)
class Entry:
    member_id: int
    score: int
    elapsed_ms: int  # quiz: total answer time; prediction: 0
    submitted_at_ms: int  # ms since the contest opened

    def __post_init__(self) -> None:
        _require_int("member_id", self.member_id, minimum=-(2**63))
        _require_int("score", self.score)
        _require_int("elapsed_ms", self.elapsed_ms)
        _require_int("submitted_at_ms", self.submitted_at_ms)


@dataclass(frozen=True)
class Standing:
    rank: int
    entry: Entry


def order_key(entry: Entry) -> tuple[int, int, int, int]:
    """Sorting ascending by this key lists the best entry first."""
    return (-entry.score, entry.elapsed_ms, entry.submitted_at_ms, entry.member_id)


def _tie_key(entry: Entry) -> tuple[int, int, int]:
    return order_key(entry)[:3]


def rank_entries(entries: Iterable[Entry]) -> tuple[Standing, ...]:
    """Entries best first with competition ranks; one entry per member."""
    ordered = sorted(entries, key=order_key)
    members = [e.member_id for e in ordered]
    if len(set(members)) != len(members):
        raise ValueError("a member appears twice on the leaderboard")
    standings: list[Standing] = []
    for position, entry in enumerate(ordered, start=1):
        if standings and _tie_key(standings[-1].entry) == _tie_key(entry):
            rank = standings[-1].rank
        else:
            rank = position
        standings.append(Standing(rank, entry))
    return tuple(standings)


def top(standings: Iterable[Standing], n: int) -> tuple[Standing, ...]:
    """Standings with rank <= n: a tie across the cut keeps everyone tied in."""
    return tuple(s for s in standings if s.rank <= n)


@dataclass(frozen=True)
class SortedSetLayout:
    """Inclusive upper bounds of what `sorted_set_score` can encode exactly."""

    max_score: int
    max_elapsed_ms: int
    horizon_ms: int  # latest submitted_at_ms, from the contest's opening

    def __post_init__(self) -> None:
        _require_int("max_score", self.max_score)
        _require_int("max_elapsed_ms", self.max_elapsed_ms)
        _require_int("horizon_ms", self.horizon_ms)
        if (self.max_score + 1) * (self.max_elapsed_ms + 1) * (self.horizon_ms + 1) \
                > EXACT_DOUBLE_LIMIT:
            raise ValueError("layout needs more than 53 bits: a Redis double would round it")


# A quiz: up to 4,095 points (20 questions x 200), 17 min 28 s of answering in
# total, attempts finished within 34 min 57 s of the opening: 12 + 20 + 21 bits.
QUIZ_LAYOUT = SortedSetLayout(max_score=2**12 - 1, max_elapsed_ms=2**20 - 1,
                              horizon_ms=2**21 - 1)
# A prediction: no answering time; up to 1,048,575 points, deadline within
# about 99 days (2**33 ms) of the opening: 20 + 0 + 33 bits.
PREDICTION_LAYOUT = SortedSetLayout(max_score=2**20 - 1, max_elapsed_ms=0,
                                    horizon_ms=2**33 - 1)


def sorted_set_score(score: int, elapsed_ms: int, submitted_at_ms: int,
                     layout: SortedSetLayout = QUIZ_LAYOUT) -> int:
    """One integer, higher = better, that orders like (score desc, elapsed asc,
    time asc); equal only when all three are equal. Raises `ValueError` outside
    the layout's bounds rather than silently losing precision."""
    for name, value, bound in (("score", score, layout.max_score),
                               ("elapsed_ms", elapsed_ms, layout.max_elapsed_ms),
                               ("submitted_at_ms", submitted_at_ms, layout.horizon_ms)):
        _require_int(name, value)
        if value > bound:
            raise ValueError(f"{name} {value} exceeds the layout bound {bound}")
    elapsed_radix = layout.max_elapsed_ms + 1
    time_radix = layout.horizon_ms + 1
    encoded = ((score * elapsed_radix + (layout.max_elapsed_ms - elapsed_ms)) * time_radix
               + (layout.horizon_ms - submitted_at_ms))
    assert encoded < EXACT_DOUBLE_LIMIT  # guaranteed by the layout check
    return encoded


def decode_sorted_set_score(encoded: int, layout: SortedSetLayout = QUIZ_LAYOUT
                            ) -> tuple[int, int, int]:
    """(score, elapsed_ms, submitted_at_ms) back from `sorted_set_score`, e.g.
    to show a member's score from Redis alone."""
    if isinstance(encoded, float):
        if not encoded.is_integer():
            raise ValueError("not an encoded leaderboard score")
        encoded = int(encoded)
    _require_int("encoded", encoded)
    rest, time_part = divmod(encoded, layout.horizon_ms + 1)
    score, elapsed_part = divmod(rest, layout.max_elapsed_ms + 1)
    if score > layout.max_score:
        raise ValueError("not an encoded leaderboard score for this layout")
    return score, layout.max_elapsed_ms - elapsed_part, layout.horizon_ms - time_part
