"""The prediction adapter: `games.prediction` scoring once staff enter the result.

`Contest.settings` holds the question: {"question": "options"|"number",
"options": [{"fa", "en"}, …] or "arity"/"minimum"/"maximum"/"labels",
"mode": "exact"|"closest", "exact_points", "closest_points"}. The entry's
`prediction` is the member's last edit before the deadline; its time (the tie
break) is when that edit was made."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from games import prediction as engine
from games.leaderboard import Entry
from webapp.models import Contest, ContestEntry
from webapp.services.play.kinds import ContestKind


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


def check_settings(settings: dict) -> str | None:
    """The question and the rule, checked by building them in the engine."""
    try:
        question = engine_question(settings)
        rule = engine_rule(settings)
    except (TypeError, ValueError) as exc:
        return str(exc)
    if rule.mode is engine.Mode.CLOSEST and question.kind is not engine.Kind.NUMBER:
        return "The closest rule needs a number question."
    if question.kind is engine.Kind.OPTIONS and any(
            not (o.get("fa") or "").strip() or not (o.get("en") or "").strip() for o in settings["options"]):
        return "Every option needs its Persian and English text."
    return None


class PredictionType(ContestKind):
    kind = "prediction"
    label = _l("Prediction")
    tab = ("member.contests", "member.contest", _l("Contests"))
    templates = {"play": "_partials/contest_play_prediction.html",
                 "editor": "admin/_contest_editor_prediction.html"}
    forms = {"settings": "webapp.admin.contest_forms:PredictionSettings",
             "result": "webapp.admin.contest_forms:ResultForm"}
    play_actions = frozenset({"predict"})  # /contests/<id>/predict, until the deadline
    staff_actions = frozenset({"result"})
    board_text = _l("The ranking appears once the result is in.")
    live_board = False  # nothing to rank before the result

    def check_settings(self, session: Session, settings: dict) -> dict[str, str]:
        problem = check_settings(settings)
        return {"settings": problem} if problem else {}

    def value_count(self, settings: dict) -> int:
        return 1 if settings.get("question") == "options" else int(settings.get("arity", 1))

    def check_value(self, settings: dict, value: tuple[int, ...]) -> None:
        engine_question(settings).check(tuple(value))

    def bounds(self, session: Session, contest: Contest) -> tuple[int, int]:
        return engine_rule(contest.settings).exact_points, 0

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
