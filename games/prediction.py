"""Prediction scoring: members predict an outcome, staff enter the result.

Every answer is a tuple of integers: for an options question one option index,
`(2,)`; for a number question one or more numbers, e.g. a match score `(2, 1)`.

Rules:
- EXACT: `exact_points` for a prediction equal to the result, 0 otherwise.
- CLOSEST (number questions only): `exact_points` for exact predictions, and
  `closest_points` (smaller) for every non-exact prediction at the smallest
  distance among the non-exact ones, whether or not someone was exact. The
  distance is the sum of absolute differences (a 2-1 match predicted 1-1 or
  2-2 is 1 away; 0-0 is 3 away). Ties share: everyone at that smallest distance
  gets the full `closest_points`. Nobody else scores.

A member predicts once (the webapp keeps the last edit before the deadline), so
two predictions from one member raise `ValueError`. Results are ordered by
member id, so the same input always gives the same output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    OPTIONS = "options"
    NUMBER = "number"


class Mode(str, Enum):
    EXACT = "exact"
    CLOSEST = "closest"


class Outcome(str, Enum):
    EXACT = "exact"
    CLOSEST = "closest"
    MISSED = "missed"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class PredictionQuestion:
    """Build with `options(n)` or `number(...)`. Number answers lie in
    [minimum, maximum]; `maximum=None` means unbounded above."""

    kind: Kind
    option_count: int = 0
    arity: int = 1
    minimum: int = 0
    maximum: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            raise TypeError("kind must be a Kind")
        if not all(_is_int(v) for v in (self.option_count, self.arity, self.minimum)):
            raise TypeError("option_count, arity and minimum must be integers")
        if self.kind is Kind.OPTIONS and not (2 <= self.option_count and self.arity == 1):
            raise ValueError("an options question has at least 2 options and one answer")
        if self.kind is Kind.NUMBER and (self.option_count or self.arity < 1):
            raise ValueError("a number question has no options and at least one number")
        if self.maximum is not None and (not _is_int(self.maximum) or self.maximum < self.minimum):
            raise ValueError("maximum must be an integer not below minimum")

    @classmethod
    def options(cls, option_count: int) -> PredictionQuestion:
        return cls(Kind.OPTIONS, option_count=option_count)

    @classmethod
    def number(cls, arity: int = 1, minimum: int = 0, maximum: int | None = None
               ) -> PredictionQuestion:
        return cls(Kind.NUMBER, arity=arity, minimum=minimum, maximum=maximum)

    def check(self, value: tuple[int, ...]) -> None:
        """Raise `ValueError` unless `value` is a possible answer."""
        if not isinstance(value, tuple) or len(value) != self.arity:
            raise ValueError(f"an answer is a tuple of {self.arity} integer(s)")
        if not all(_is_int(v) for v in value):
            raise ValueError("answers are integers")
        low, high = ((0, self.option_count - 1) if self.kind is Kind.OPTIONS
                     else (self.minimum, self.maximum))
        if any(v < low or (high is not None and v > high) for v in value):
            raise ValueError(f"answer {value} is out of range")


@dataclass(frozen=True)
class PredictionRule:
    mode: Mode = Mode.EXACT
    exact_points: int = 100
    closest_points: int = 0  # CLOSEST only; must be less than exact_points

    def __post_init__(self) -> None:
        if not isinstance(self.mode, Mode):
            raise TypeError("mode must be a Mode")
        if not (_is_int(self.exact_points) and _is_int(self.closest_points)):
            raise TypeError("points must be integers")
        if self.exact_points < 0 or self.closest_points < 0:
            raise ValueError("points cannot be negative")
        if self.mode is Mode.CLOSEST and self.closest_points >= self.exact_points:
            raise ValueError("closest_points must be smaller than exact_points")
        if self.mode is Mode.EXACT and self.closest_points:
            raise ValueError("the exact rule awards no closest points")


@dataclass(frozen=True)
class Prediction:
    member_id: int
    value: tuple[int, ...]


@dataclass(frozen=True)
class PredictionScore:
    member_id: int
    outcome: Outcome
    points: int
    distance: int  # 0 when exact; for options questions 0 or 1


def distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def score_predictions(question: PredictionQuestion, result: tuple[int, ...],
                      predictions: Iterable[Prediction],
                      rule: PredictionRule = PredictionRule()) -> tuple[PredictionScore, ...]:
    """Points per member, ordered by member id."""
    if rule.mode is Mode.CLOSEST and question.kind is not Kind.NUMBER:
        raise ValueError("the closest rule needs a number question")
    question.check(result)
    by_member: dict[int, Prediction] = {}
    for prediction in predictions:
        if prediction.member_id in by_member:
            raise ValueError(f"member {prediction.member_id} predicted twice")
        question.check(prediction.value)
        by_member[prediction.member_id] = prediction
    if question.kind is Kind.OPTIONS:
        distances = {m: int(p.value != result) for m, p in by_member.items()}
    else:
        distances = {m: distance(p.value, result) for m, p in by_member.items()}
    near_misses = [d for d in distances.values() if d > 0]
    closest = min(near_misses) if rule.mode is Mode.CLOSEST and near_misses else None
    scores = []
    for member in sorted(by_member):
        d = distances[member]
        if d == 0:
            scores.append(PredictionScore(member, Outcome.EXACT, rule.exact_points, d))
        elif d == closest:
            scores.append(PredictionScore(member, Outcome.CLOSEST, rule.closest_points, d))
        else:
            scores.append(PredictionScore(member, Outcome.MISSED, 0, d))
    return tuple(scores)
