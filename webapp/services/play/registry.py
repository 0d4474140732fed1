"""The string-keyed registry of contest kinds (like CTFd's CHALLENGE_CLASSES).

An adapter declares its templates (the member's play partial and the staff
editor partial), how its entries are scored for the final ranks, when a
contest of its kind is ready to be finalised, and its leaderboard layout.
Views and services look the kind up here: no `if kind == …` anywhere else."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from games.leaderboard import Entry, SortedSetLayout
from webapp.models import Contest


class ContestType(Protocol):
    kind: str
    play_template: str  # member partial, rendered inside /contests/<id>
    editor_template: str  # staff partial, the kind's own fields on the contest form
    live_board: bool  # whether the Redis board fills while the contest is open

    def layout(self, session: Session, contest: Contest) -> SortedSetLayout:
        """Bounds of the Redis score encoding; horizon in `contest.tie_unit_ms` units."""

    def due_clause(self, now: datetime) -> ColumnElement[bool]:
        """SQL condition (on Contest) of published contests of this kind ready to finalise."""

    def ready_to_finalise(self, contest: Contest, now: datetime) -> bool: ...

    def final_entries(self, session: Session, contest: Contest) -> list[Entry]:
        """Every entry scored from the database (score, elapsed, tie time), for
        `games.leaderboard.rank_entries`; also writes the scores to the entries."""


CONTEST_TYPES: dict[str, ContestType] = {}


def register(contest_type: ContestType) -> ContestType:
    if contest_type.kind in CONTEST_TYPES:
        raise ValueError(f"contest kind {contest_type.kind!r} is already registered")
    CONTEST_TYPES[contest_type.kind] = contest_type
    return contest_type


def get_type(kind: str) -> ContestType:
    """The adapter of `kind`; KeyError for an unknown kind (a bug or an old row)."""
    return CONTEST_TYPES[kind]


def kinds() -> tuple[str, ...]:
    return tuple(CONTEST_TYPES)


def _register_builtin() -> None:
    from webapp.services.play import prediction, quiz

    register(quiz.QuizType())
    register(prediction.PredictionType())


_register_builtin()
