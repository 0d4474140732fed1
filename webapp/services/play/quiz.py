"""The quiz adapter: `games.quiz` scoring on the stored questions and answers.

A question is served once (its `served_at` is the server's clock and survives
reloads); the answer is scored by the engine with the elapsed time measured
on the server. An attempt is on the board once its last question is answered;
one left unfinished at the close counts with what it answered, and every
unanswered question adds its full time limit (the engine's rule)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from games import quiz as engine
from games.leaderboard import Entry, SortedSetLayout
from webapp.models import Contest, ContestAnswer, ContestEntry, ContestQuestion
from webapp.services.play import timing

SCORING = engine.ScoringRule()  # 100 points for a right answer, up to 100 more for speed


def questions_of(session: Session, contest_id: int) -> list[ContestQuestion]:
    return list(session.scalars(select(ContestQuestion).where(ContestQuestion.contest_id == contest_id)
                                .order_by(ContestQuestion.position, ContestQuestion.id)))


def engine_question(question: ContestQuestion) -> engine.Question:
    return engine.Question(id=question.id, option_count=len(question.options),
                           correct_option=question.correct_option, time_limit_ms=question.time_limit_ms)


class QuizType:
    kind = "quiz"
    play_template = "_partials/contest_play_quiz.html"
    editor_template = "admin/_contest_editor_quiz.html"
    live_board = True

    def bounds(self, session: Session, contest: Contest) -> tuple[int, int]:
        questions = [engine_question(q) for q in questions_of(session, contest.id)]
        return engine.max_score(questions, SCORING), sum(q.time_limit_ms for q in questions)

    def layout(self, session: Session, contest: Contest) -> SortedSetLayout:
        max_score, max_elapsed = self.bounds(session, contest)
        return timing.layout(max_score, max_elapsed, timing.duration_ms(contest.opens_at, contest.closes_at),
                             contest.tie_unit_ms)

    def due_clause(self, now: datetime) -> ColumnElement[bool]:
        return and_(Contest.kind == self.kind, Contest.closes_at <= now)

    def ready_to_finalise(self, contest: Contest, now: datetime) -> bool:
        return contest.closes_at <= now

    def final_entries(self, session: Session, contest: Contest) -> list[Entry]:
        """Scores from the answers, set-based: one grouped query over the contest."""
        total_limit = session.scalar(select(func.coalesce(func.sum(ContestQuestion.time_limit_ms), 0))
                                     .where(ContestQuestion.contest_id == contest.id))
        answered = (select(ContestAnswer.entry_id,
                           func.sum(ContestAnswer.points).label("points"),
                           func.sum(ContestAnswer.elapsed_ms).label("elapsed"),
                           func.sum(ContestQuestion.time_limit_ms).label("limits"))
                    .join(ContestQuestion, ContestQuestion.id == ContestAnswer.question_id)
                    .where(ContestAnswer.answered_at.is_not(None))
                    .group_by(ContestAnswer.entry_id).subquery())
        rows = session.execute(
            select(ContestEntry, func.coalesce(answered.c.points, 0), func.coalesce(answered.c.elapsed, 0),
                   func.coalesce(answered.c.limits, 0))
            .outerjoin(answered, answered.c.entry_id == ContestEntry.id)
            .where(ContestEntry.contest_id == contest.id)).all()
        unit = contest.tie_unit_ms
        horizon = timing.tie_time(contest.opens_at, contest.closes_at, contest.closes_at, unit)
        entries = []
        for entry, points, elapsed, limits in rows:
            entry.score = int(points)
            entry.elapsed_ms = int(elapsed) + int(total_limit) - int(limits)
            if entry.finished_at is None:
                entry.tie_time = horizon  # unfinished: as if handed in at the close
            entries.append(Entry(entry.member_id, entry.score, entry.elapsed_ms, entry.tie_time))
        return entries
