"""Contests, the member side: play a quiz one question at a time, predict
(any kind whose registry entry has the `predict` action: a value entered
before the deadline, the last edit counts).

Quiz: starting charges the entry cost once (ledger key `contest:{id}:entry:{member}`)
under the member's row lock, so concurrent starts make one attempt and one
charge. Each question is served once: its `served_at` is stored and a reload
shows the same question with the same clock. An answer is scored by
`games.quiz` with the time measured here, through a guarded UPDATE (`WHERE
answered_at IS NULL`) on the unique (attempt, question) row, so a double
submit or a back-button replay is the engine's DUPLICATE: it scores nothing.
The correct option is only ever returned with the result of an answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from games import quiz as quiz_engine
from games import streaks
from games.leaderboard import Entry
from webapp.db import insert_ignoring_duplicates
from webapp.models import Contest, ContestAnswer, ContestEntry, ContestQuestion
from webapp.services import ledger
from webapp.services.errors import Conflict, DomainError, MemberNotActive, NotFound
from webapp.services.offers import earn_rules
from webapp.services.play import registry, timing
from webapp.services.play.quiz import SCORING, questions_of
from webapp.services.play.quiz import engine_question as quiz_question

STREAK_DAYS = 400  # how far back play days are read for the streak


class ContestNotOpen(Conflict):
    """The contest is not open now."""

    code = "contest_not_open"


class AlreadyPlayed(Conflict):
    """The member has already played this quiz."""

    code = "contest_already_played"


class AnswerInvalid(DomainError):
    """That answer does not fit the question."""

    code = "answer_invalid"
    status = 400


def playable(session: Session, contest_id: int) -> Contest:
    """A published contest (drafts look like nothing to members)."""
    contest = session.get(Contest, contest_id)
    if contest is None or contest.status == "draft":
        raise NotFound("Contest not found.", contest_id=contest_id)
    return contest


def _require_open(contest: Contest, now: datetime) -> None:
    if contest.status != "published" or not contest.opens_at <= now < contest.closes_at:
        raise ContestNotOpen(contest_id=contest.id)


def entry_of(session: Session, contest_id: int, member_id: int) -> ContestEntry | None:
    return session.scalar(select(ContestEntry).where(ContestEntry.contest_id == contest_id,
                                                     ContestEntry.member_id == member_id))


def start_attempt(session: Session, *, contest_id: int, member_id: int, now: datetime) -> ContestEntry:
    """The member's attempt, started (and charged) once; a second start returns
    the same attempt. A finished attempt is AlreadyPlayed."""
    member = ledger.lock_member(session, member_id)  # one member's starts queue here
    if not member.is_active:
        raise MemberNotActive(member_id=member_id)
    contest = playable(session, contest_id)
    existing = entry_of(session, contest_id, member_id)
    if existing is not None:
        if existing.finished_at is not None:
            raise AlreadyPlayed(contest_id=contest_id)
        return existing
    _require_open(contest, now)
    if "start" not in registry.get_type(contest.kind).play_actions:
        raise NotFound("Contest not found.", contest_id=contest_id)
    entry = ContestEntry(contest_id=contest_id, member_id=member_id, started_at=now, score=0, elapsed_ms=0,
                         tie_time=0)
    session.add(entry)
    session.flush()
    if contest.entry_cost:
        ledger.spend_points(session, member_id, contest.entry_cost, key=f"contest:{contest_id}:entry:{member_id}",
                            now=now, source=("contest", contest_id), kind="spend",
                            description=f"Entry to contest {contest_id}")
    return entry


@dataclass(frozen=True)
class Served:
    question: ContestQuestion
    number: int  # 1-based
    total: int
    served_at: datetime
    deadline: datetime


def current_question(session: Session, *, contest_id: int, member_id: int, now: datetime) -> Served | None:
    """The attempt's next unanswered question, served now if it never was
    (its clock starts at the first serving, not at a reload). None: all answered."""
    contest = playable(session, contest_id)
    entry = entry_of(session, contest_id, member_id)
    if entry is None:
        raise NotFound("No attempt.", contest_id=contest_id)
    questions = questions_of(session, contest_id)
    rows = {a.question_id: a for a in session.scalars(select(ContestAnswer)
                                                      .where(ContestAnswer.entry_id == entry.id))}
    for number, question in enumerate(questions, start=1):
        answer = rows.get(question.id)
        if answer is not None and answer.answered_at is not None:
            continue
        if answer is None:
            _require_open(contest, now)
            session.execute(insert_ignoring_duplicates(session, ContestAnswer)
                            .values(entry_id=entry.id, question_id=question.id, served_at=now, points=0)
                            .on_conflict_do_nothing(index_elements=["entry_id", "question_id"]))
            answer = session.scalar(select(ContestAnswer).where(ContestAnswer.entry_id == entry.id,
                                                                ContestAnswer.question_id == question.id))
        return Served(question, number, len(questions), answer.served_at,
                      answer.served_at + timedelta(milliseconds=question.time_limit_ms))
    return None


@dataclass(frozen=True)
class AnswerResult:
    outcome: quiz_engine.AnswerOutcome
    points: int
    correct_option: int
    chosen: int
    elapsed_ms: int
    finished: Entry | None  # the attempt, when this answer finished it (for the board)


def answer_question(session: Session, *, contest_id: int, member_id: int, question_id: int, option: int,
                    now: datetime) -> AnswerResult:
    contest = playable(session, contest_id)
    entry = entry_of(session, contest_id, member_id)
    if entry is None:
        raise NotFound("No attempt.", contest_id=contest_id)
    row = session.execute(select(ContestAnswer, ContestQuestion)
                          .join(ContestQuestion, ContestQuestion.id == ContestAnswer.question_id)
                          .where(ContestAnswer.entry_id == entry.id,
                                 ContestAnswer.question_id == question_id)).first()
    if row is None:  # never served to this member: not a question they can answer
        raise NotFound("Question not served.", question_id=question_id)
    answer, question = row
    if not 0 <= option < len(question.options):
        raise AnswerInvalid(question_id=question_id)
    if answer.answered_at is not None:
        return _duplicate(answer, question, option)
    _require_open(contest, now)
    elapsed = max(0, int((now - answer.served_at).total_seconds() * 1000))
    scored = quiz_engine.score_answer(quiz_question(question), quiz_engine.Answer(question.id, option, elapsed),
                                      SCORING)
    claimed = session.execute(
        update(ContestAnswer).where(ContestAnswer.id == answer.id, ContestAnswer.answered_at.is_(None))
        .values(answered_at=now, option=option, elapsed_ms=scored.elapsed_ms, outcome=scored.outcome.value,
                points=scored.points).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:  # a concurrent twin answered first: this one is the replay
        session.refresh(answer)
        return _duplicate(answer, question, option)
    finished = _finish_if_done(session, contest, entry, now)
    return AnswerResult(scored.outcome, scored.points, question.correct_option, option, scored.elapsed_ms,
                        finished)


def _duplicate(answer: ContestAnswer, question: ContestQuestion, option: int) -> AnswerResult:
    return AnswerResult(quiz_engine.AnswerOutcome.DUPLICATE, 0, question.correct_option,
                        answer.option if answer.option is not None else option, answer.elapsed_ms or 0, None)


def _finish_if_done(session: Session, contest: Contest, entry: ContestEntry, now: datetime) -> Entry | None:
    open_questions = session.scalar(
        select(func.count()).select_from(ContestQuestion)
        .outerjoin(ContestAnswer, (ContestAnswer.question_id == ContestQuestion.id)
                   & (ContestAnswer.entry_id == entry.id))
        .where(ContestQuestion.contest_id == contest.id, ContestAnswer.answered_at.is_(None)))
    if open_questions:
        return None
    score, elapsed = session.execute(
        select(func.coalesce(func.sum(ContestAnswer.points), 0), func.coalesce(func.sum(ContestAnswer.elapsed_ms), 0))
        .where(ContestAnswer.entry_id == entry.id)).one()
    tie = timing.tie_time(contest.opens_at, contest.closes_at, now, contest.tie_unit_ms)
    done = session.execute(
        update(ContestEntry).where(ContestEntry.id == entry.id, ContestEntry.finished_at.is_(None))
        .values(finished_at=now, score=int(score), elapsed_ms=int(elapsed), tie_time=tie)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(entry)
    if done != 1:
        return None
    earn_rules.award_for_event(session, member_id=entry.member_id, trigger="contest_played",
                               event_key=f"contest:{contest.id}:{entry.member_id}", now=now)
    return Entry(entry.member_id, entry.score, entry.elapsed_ms, entry.tie_time)


# -- predictions ------------------------------------------------------------------


def predict(session: Session, *, contest_id: int, member_id: int, value: tuple[int, ...],
            now: datetime) -> ContestEntry:
    """Make or change the member's prediction before the deadline (the last edit counts)."""
    member = ledger.lock_member(session, member_id)
    if not member.is_active:
        raise MemberNotActive(member_id=member_id)
    contest = playable(session, contest_id)
    adapter = registry.get_type(contest.kind)
    if "predict" not in adapter.play_actions:
        raise NotFound("Contest not found.", contest_id=contest_id)
    _require_open(contest, now)
    try:
        adapter.check_value(contest.settings, tuple(value))
    except ValueError:
        raise AnswerInvalid(contest_id=contest_id) from None
    entry = entry_of(session, contest_id, member_id)
    first = entry is None
    if first:
        entry = ContestEntry(contest_id=contest_id, member_id=member_id, started_at=now, score=0, elapsed_ms=0)
        session.add(entry)
        if contest.entry_cost:
            session.flush()
            ledger.spend_points(session, member_id, contest.entry_cost,
                                key=f"contest:{contest_id}:entry:{member_id}", now=now,
                                source=("contest", contest_id), description=f"Entry to contest {contest_id}")
    entry.prediction = list(value)
    entry.finished_at = now
    entry.tie_time = timing.tie_time(contest.opens_at, contest.closes_at, now, contest.tie_unit_ms)
    session.flush()
    if first:
        earn_rules.award_for_event(session, member_id=member_id, trigger="contest_played",
                                   event_key=f"contest:{contest_id}:{member_id}", now=now)
    return entry


# -- the streak ------------------------------------------------------


def play_streak(session: Session, member_id: int, now: datetime, tz: str) -> int:
    """Days in a row (club-local days) on which the member played any contest."""
    started = session.scalars(select(ContestEntry.started_at).where(
        ContestEntry.member_id == member_id, ContestEntry.started_at >= streak_since(now)))
    return streak_length(started, now, tz)


def streak_since(now: datetime) -> datetime:
    return now - timedelta(days=STREAK_DAYS)


def streak_length(started: Iterable[datetime], now: datetime, tz: str) -> int:
    """The streak of these start times (those since `streak_since(now)`)."""
    zone = ZoneInfo(tz)
    days: list[date] = sorted({when.astimezone(zone).date() for when in started})
    return streaks.current_length(streaks.replay(days), now.astimezone(zone).date())
