"""The prediction adapter: `games.prediction` scoring once staff enter the result.

`Contest.settings` holds the question: {"question": "options"|"number",
"options": [{"fa", "en"}, …] or "arity"/"minimum"/"maximum"/"labels",
"mode": "exact"|"closest", "exact_points", "closest_points"}. The entry's
`prediction` is the member's last edit before the deadline; its time (the tie
break) is when that edit was made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from games import prediction as engine
from games.leaderboard import Entry, SortedSetLayout
from webapp.models import Contest, ContestEntry
from webapp.services.play import timing


def engine_question(settings: dict) -> engine.PredictionQuestion:
    if settings.get("question") == "options":
        return engine.PredictionQuestion.options(len(settings.get("options") or ()))
    return engine.PredictionQuestion.number(arity=int(settings.get("arity", 1)),
                                            minimum=int(settings.get("minimum", 0)),
                                            maximum=settings.get("maximum"))


def engine_rule(settings: dict) -> engine.PredictionRule:
    mode = engine.Mode(settings.get("mode", "exact"))
    return engine.PredictionRule(mode=mode, exact_points=int(settings.get("exact_points", 100)),
                                 closest_points=int(settings.get("closest_points", 0))
                                 if mode is engine.Mode.CLOSEST else 0)


class PredictionType:
    kind = "prediction"
    play_template = "_partials/contest_play_prediction.html"
    editor_template = "admin/_contest_editor_prediction.html"
    live_board = False  # nothing to rank before the result

    def bounds(self, session: Session, contest: Contest) -> tuple[int, int]:
        return engine_rule(contest.settings).exact_points, 0

    def layout(self, session: Session, contest: Contest) -> SortedSetLayout:
        max_score, _ = self.bounds(session, contest)
        return timing.layout(max_score, 0, timing.duration_ms(contest.opens_at, contest.closes_at),
                             contest.tie_unit_ms)

    def due_clause(self, now: datetime) -> ColumnElement[bool]:
        return and_(Contest.kind == self.kind, Contest.result_entered_at.is_not(None))

    def ready_to_finalise(self, contest: Contest, now: datetime) -> bool:
        return contest.result is not None and contest.closes_at <= now

    def final_entries(self, session: Session, contest: Contest) -> list[Entry]:
        rows = list(session.scalars(select(ContestEntry).where(ContestEntry.contest_id == contest.id,
                                                               ContestEntry.prediction.is_not(None))))
        scores = engine.score_predictions(
            engine_question(contest.settings), tuple(contest.result),
            [engine.Prediction(e.member_id, tuple(e.prediction)) for e in rows], engine_rule(contest.settings))
        points = {s.member_id: s.points for s in scores}
        entries = []
        for entry in rows:
            entry.score, entry.elapsed_ms = points[entry.member_id], 0
            entries.append(Entry(entry.member_id, entry.score, 0, entry.tie_time))
        return entries
