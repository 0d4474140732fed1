"""The quiz adapter: `games.quiz` scoring on the stored questions and answers.

A question is served once (its `served_at` is the server's clock and survives
reloads); the answer is scored by the engine with the elapsed time measured
on the server. An attempt is on the board once its last question is answered;
one left unfinished at the close counts with what it answered, and every
unanswered question adds its full time limit (the engine's rule)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from games import quiz as engine
from games.leaderboard import Entry
from webapp.models import Contest, ContestAnswer, ContestEntry, ContestQuestion
from webapp.services.play import timing
from webapp.services.play.kinds import ContestKind

SCORING = engine.ScoringRule()  # 100 points for a right answer, up to 100 more for speed


def questions_of(session: Session, contest_id: int) -> list[ContestQuestion]:
    return list(session.scalars(select(ContestQuestion).where(ContestQuestion.contest_id == contest_id)
                                .order_by(ContestQuestion.position, ContestQuestion.id)))


def engine_question(question: ContestQuestion) -> engine.Question:
    return engine.Question(id=question.id, option_count=len(question.options),
                           correct_option=question.correct_option, time_limit_ms=question.time_limit_ms)


def question_count(session: Session, contest_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ContestQuestion)
                          .where(ContestQuestion.contest_id == contest_id)) or 0


def answers_of(session: Session, contest_id: int, member_id: int) -> list[tuple[ContestQuestion, ContestAnswer]]:
    """The member's own answered questions (their review, once finished)."""
    return list(session.execute(
        select(ContestQuestion, ContestAnswer)
        .join(ContestAnswer, ContestAnswer.question_id == ContestQuestion.id)
        .join(ContestEntry, ContestEntry.id == ContestAnswer.entry_id)
        .where(ContestEntry.contest_id == contest_id, ContestEntry.member_id == member_id,
               ContestAnswer.answered_at.is_not(None))
        .order_by(ContestQuestion.position)).all())


class QuizType(ContestKind):
    kind = "quiz"
    label = _l("Quiz")
    tab = ("member.contests", "member.contest", _l("Contests"))
    templates = {"play": "_partials/contest_play_quiz.html", "editor": "admin/_contest_editor_quiz.html"}
    forms = {"question": "webapp.admin.contest_forms:QuestionForm"}
    play_actions = frozenset({"start", "answer"})  # /contests/<id>/start, /play, /answer
    staff_actions = frozenset({"questions"})
    live_board = True

    def bounds(self, session: Session, contest: Contest) -> tuple[int, int]:
        questions = [engine_question(q) for q in questions_of(session, contest.id)]
        return engine.max_score(questions, SCORING), sum(q.time_limit_ms for q in questions)

    def publish_problems(self, session: Session, contest: Contest) -> dict[str, str]:
        return {} if question_count(session, contest.id) else {"questions": "Add at least one question."}

    def review(self, session: Session, contest_id: int, member_id: int) -> list:
        return answers_of(session, contest_id, member_id)

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
