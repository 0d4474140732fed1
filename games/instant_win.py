"""Instant win (spin the wheel, scratch card): the pure decision.

Each prize has a weight: its chance out of `ODDS_SCALE` (1,000,000) per spin.
The prizes are laid end to end on [0, ODDS_SCALE) in the order given; the rest
of the range is "no win". The caller supplies `roll`, a uniform integer in
[0, ODDS_SCALE) (e.g. `secrets.randbelow(ODDS_SCALE)`), so the engine is
deterministic and every roll can be replayed.

A prize whose remaining quantity is 0 is never returned: a roll landing on it
is "no win" (outcome SOLD_OUT). Its odds do not move to other prizes, so
running out of one prize never makes the others more likely and the published
odds stay an upper bound. The database adapter decrements the quantity under a
guard (the budget must hold under concurrency); here is only the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

ODDS_SCALE = 1_000_000


class SpinOutcome(str, Enum):
    WON = "won"
    NO_WIN = "no_win"  # the roll fell outside every prize's range
    SOLD_OUT = "sold_out"  # the roll fell on a prize with nothing left: no win


def _require_int(name: str, value: object, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")


@dataclass(frozen=True)
class Prize:
    id: int
    weight: int  # chance per ODDS_SCALE spins
    remaining: int  # how many are left to give

    def __post_init__(self) -> None:
        _require_int("weight", self.weight)
        if self.weight > ODDS_SCALE:
            raise ValueError(f"weight is out of {ODDS_SCALE}")
        _require_int("remaining", self.remaining)


@dataclass(frozen=True)
class Spin:
    outcome: SpinOutcome
    prize: Prize | None  # the prize won; None unless WON
    landed_on: Prize | None = None  # the prize the roll hit, also when SOLD_OUT

    @property
    def won(self) -> bool:
        return self.outcome is SpinOutcome.WON


def check_prizes(prizes: Sequence[Prize]) -> None:
    """Raise `ValueError` unless the ids are unique and the odds sum to at most 1."""
    ids = [p.id for p in prizes]
    if len(set(ids)) != len(ids):
        raise ValueError("prize ids must be unique")
    if sum(p.weight for p in prizes) > ODDS_SCALE:
        raise ValueError(f"the odds add up to more than {ODDS_SCALE} per {ODDS_SCALE}")


def spin(prizes: Sequence[Prize], roll: int) -> Spin:
    """The outcome of one spin for a uniform `roll` in [0, ODDS_SCALE)."""
    _require_int("roll", roll)
    if roll >= ODDS_SCALE:
        raise ValueError(f"roll must be below {ODDS_SCALE}")
    check_prizes(prizes)
    start = 0
    for prize in prizes:
        if roll < start + prize.weight:
            if prize.remaining == 0:
                return Spin(SpinOutcome.SOLD_OUT, None, prize)
            return Spin(SpinOutcome.WON, prize, prize)
        start += prize.weight
    return Spin(SpinOutcome.NO_WIN, None)


def no_win_odds(prizes: Sequence[Prize]) -> int:
    """The chance of not winning, per ODDS_SCALE, counting sold-out prizes as no win."""
    check_prizes(prizes)
    return ODDS_SCALE - sum(p.weight for p in prizes if p.remaining > 0)
