"""What a game kind declares (the shape of a registry entry; see `registry`).

Like CTFd's `BaseChallenge`: class attributes say what the rest of the app
needs to know, methods hold what differs between kinds. `GameKind` is what
every kind declares; `ContestKind` adds what a contest kind (a game on the
`contest` tables, played at /contests/<id>, ranked on a leaderboard and
finalised by the minute job) must say about scoring and timing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from games.leaderboard import Entry, SortedSetLayout
from webapp.models import Contest
from webapp.services.play import timing


class GameKind:
    kind: ClassVar[str]
    family: ClassVar[str]  # contest | raffle | instant_win: the tables, pages and jobs it shares
    label: ClassVar[str]  # its name (lazy: translated where shown)
    # the member's Play tab it lives under: (endpoint, endpoint prefix, tab label)
    tab: ClassVar[tuple[str, str, str]]
    templates: ClassVar[Mapping[str, str]] = {}  # role -> template (play, editor, …)
    # role -> "module:Class" of its staff form; the staff views import it (services import no view)
    forms: ClassVar[Mapping[str, str]] = {}
    play_actions: ClassVar[frozenset[str]] = frozenset()  # what a member does, named like its route
    staff_actions: ClassVar[frozenset[str]] = frozenset()  # what staff do besides define and publish
    board_text: ClassVar[str | None] = None  # what its board says while it cannot rank anybody

    def check_settings(self, session: Session, settings) -> dict[str, str]:
        """Problems of the kind's own settings, by field (English, for logs)."""
        return {}


class ContestKind(GameKind):
    family = "contest"
    live_board: ClassVar[bool] = True  # whether the Redis board fills while the contest is open

    @property
    def play_template(self) -> str:
        """The member's partial, rendered inside /contests/<id>."""
        return self.templates["play"]

    @property
    def editor_template(self) -> str:
        """The staff partial: the kind's own fields on the contest form."""
        return self.templates["editor"]

    def bounds(self, session: Session, contest: Contest) -> tuple[int, int]:
        """The highest score and the longest elapsed time an entry can have."""
        raise NotImplementedError

    def layout(self, session: Session, contest: Contest) -> SortedSetLayout:
        """Bounds of the Redis score encoding; horizon in `contest.tie_unit_ms` units."""
        max_score, max_elapsed = self.bounds(session, contest)
        return timing.layout(max_score, max_elapsed, timing.duration_ms(contest.opens_at, contest.closes_at),
                             contest.tie_unit_ms)

    def due_clause(self, now: datetime) -> ColumnElement[bool]:
        """SQL condition (on Contest) of published contests of this kind ready to finalise."""
        return and_(Contest.kind == self.kind, Contest.closes_at <= now)

    def ready_to_finalise(self, contest: Contest, now: datetime) -> bool:
        return contest.closes_at <= now

    def final_entries(self, session: Session, contest: Contest) -> list[Entry]:
        """Every entry scored from the database (score, elapsed, tie time), for
        `games.leaderboard.rank_entries`; also writes the scores to the entries."""
        raise NotImplementedError

    def publish_problems(self, session: Session, contest: Contest) -> dict[str, str]:
        """What must be added before the contest can be published."""
        return {}

    def value_count(self, settings: dict) -> int:
        """How many whole numbers a member's `predict` answer has."""
        return 1

    def check_value(self, settings: dict, value: tuple[int, ...]) -> None:
        """ValueError when `value` is not a possible answer (`predict`, and a result staff enter)."""
        raise ValueError("this kind takes no answer")

    def review(self, session: Session, contest_id: int, member_id: int) -> list:
        """What the member sees of their own finished entry besides the score."""
        return []
