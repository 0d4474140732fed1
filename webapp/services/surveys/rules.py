"""The arithmetic of surveys, with no database: each kind's scale, who is a
detractor, and the NPS and CSAT figures of a set of scores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

SCALES = {"nps": range(0, 11), "csat": range(1, 6)}
# an answer at or below this opens a feedback thread for follow-up
DETRACTOR_AT_MOST = {"nps": 6, "csat": 2}
# a member is invited to one survey at most once in this many days, whatever the
# cause (a purchase a day must not ask "would you recommend us" every day)
COOLDOWN = {"nps": timedelta(days=90), "csat": timedelta(days=30)}


def scale(kind: str) -> range:
    return SCALES[kind]


def valid_score(kind: str, score) -> bool:
    return isinstance(score, int) and not isinstance(score, bool) and score in SCALES[kind]


def is_detractor(kind: str, score: int) -> bool:
    return score <= DETRACTOR_AT_MOST[kind]


def nps_group(score: int) -> str:
    """promoter (9–10), passive (7–8) or detractor (0–6)."""
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


@dataclass(frozen=True)
class Figures:
    """What a set of answers says. `nps` (−100…100) and `average` are None for no
    answers: an empty set has no score, not a score of 0."""

    answers: int
    distribution: dict[int, int]  # score -> answers, every score of the scale
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    nps: int | None = None
    average: float | None = None  # CSAT: the mean score, to 2 places
    satisfied_percent: int | None = None  # CSAT: answers of 4 or 5

    def percent(self, count: int) -> int | None:
        return round_half_up(100 * count, self.answers) if self.answers else None


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero
    (Python's round() would take 12.5 to 12): exact, no floats."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def figures(kind: str, counts: Mapping[int, int] | Iterable[tuple[int, int]]) -> Figures:
    """The figures of answers counted per score ({score: answers}). NPS is
    %promoters − %detractors of the exact counts, rounded once at the end (so
    it is not off by one from rounding each share first)."""
    counted = dict(counts.items() if isinstance(counts, Mapping) else counts)
    distribution = {s: int(counted.get(s, 0)) for s in SCALES[kind]}
    total = sum(distribution.values())
    if kind == "nps":
        promoters = sum(n for s, n in distribution.items() if nps_group(s) == "promoter")
        passives = sum(n for s, n in distribution.items() if nps_group(s) == "passive")
        detractors = total - promoters - passives
        nps = round_half_up(100 * (promoters - detractors), total) if total else None
        return Figures(total, distribution, promoters, passives, detractors, nps=nps)
    weighted = sum(s * n for s, n in distribution.items())
    satisfied = distribution[4] + distribution[5]
    detractors = sum(n for s, n in distribution.items() if s <= DETRACTOR_AT_MOST["csat"])
    return Figures(total, distribution, detractors=detractors,
                   average=round_half_up(100 * weighted, total) / 100 if total else None,
                   satisfied_percent=round_half_up(100 * satisfied, total) if total else None)
