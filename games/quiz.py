"""Quiz scoring: correctness plus a speed bonus, integers only.

A question has 2-6 options (numbered from 0; their text lives in the webapp) and
one correct option. The server measures how long the member took. A correct
answer earns `base_points` plus a speed bonus that falls linearly, rounded
down, from `max_speed_bonus` at 0 ms to 0 at the time limit. The limit itself
is exclusive: an answer measured at exactly `time_limit_ms` or later is late and
earns nothing, so "you have 20 s" means 19,999 ms is the last scoring moment.

A double submit or back-button replay must not score twice: `score_attempt`
counts the first answer to each question (answers in arrival order) and marks
later ones DUPLICATE with 0 points, rather than raising, because replays are
normal traffic. An answer to a question that is not in the quiz is a bug or
tampering, and raises `ValueError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

MIN_OPTIONS = 2
MAX_OPTIONS = 6


class AnswerOutcome(str, Enum):
    CORRECT = "correct"  # right option within the time limit: scores
    WRONG = "wrong"  # wrong option within the time limit: 0
    LATE = "late"  # at or after the time limit, whatever the option: 0
    DUPLICATE = "duplicate"  # a second answer to the same question: ignored, 0


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")


@dataclass(frozen=True)
class ScoringRule:
    base_points: int = 100
    max_speed_bonus: int = 100

    def __post_init__(self) -> None:
        _require_int("base_points", self.base_points, 0)
        _require_int("max_speed_bonus", self.max_speed_bonus, 0)


@dataclass(frozen=True)
class Question:
    id: int
    option_count: int
    correct_option: int
    time_limit_ms: int

    def __post_init__(self) -> None:
        _require_int("option_count", self.option_count, MIN_OPTIONS)
        if self.option_count > MAX_OPTIONS:
            raise ValueError(f"a question has at most {MAX_OPTIONS} options")
        _require_int("correct_option", self.correct_option, 0)
        if self.correct_option >= self.option_count:
            raise ValueError("correct_option must be one of the options")
        _require_int("time_limit_ms", self.time_limit_ms, 1)


@dataclass(frozen=True)
class Answer:
    question_id: int
    option: int  # the chosen option, 0-based
    elapsed_ms: int  # measured on the server, from showing the question to receiving the answer

    def __post_init__(self) -> None:
        _require_int("option", self.option, 0)
        _require_int("elapsed_ms", self.elapsed_ms, 0)


@dataclass(frozen=True)
class AnswerScore:
    question_id: int
    outcome: AnswerOutcome
    points: int
    elapsed_ms: int  # what this answer adds to the tie-break time (0 for a duplicate)


@dataclass(frozen=True)
class AttemptScore:
    total: int
    correct: int
    elapsed_ms: int  # tie-break: less is better
    answers: tuple[AnswerScore, ...]  # one per answer given, in the order given


def speed_bonus(elapsed_ms: int, time_limit_ms: int, max_bonus: int) -> int:
    """`max_bonus` at 0 ms, falling linearly (floor) to 0 at the limit and after."""
    remaining = time_limit_ms - elapsed_ms
    if remaining <= 0:
        return 0
    return max_bonus * remaining // time_limit_ms


def score_answer(question: Question, answer: Answer, rule: ScoringRule = ScoringRule()) -> AnswerScore:
    """Score one answer on its own (no duplicate check: see `score_attempt`)."""
    if answer.question_id != question.id:
        raise ValueError("the answer is for another question")
    if answer.option >= question.option_count:
        raise ValueError("the chosen option does not exist")
    # a late answer adds the limit, not its real time: waiting longer must not cost more
    elapsed = min(answer.elapsed_ms, question.time_limit_ms)
    if answer.elapsed_ms >= question.time_limit_ms:
        return AnswerScore(question.id, AnswerOutcome.LATE, 0, elapsed)
    if answer.option != question.correct_option:
        return AnswerScore(question.id, AnswerOutcome.WRONG, 0, elapsed)
    points = rule.base_points + speed_bonus(answer.elapsed_ms, question.time_limit_ms,
                                            rule.max_speed_bonus)
    return AnswerScore(question.id, AnswerOutcome.CORRECT, points, elapsed)


def max_score(questions: Iterable[Question], rule: ScoringRule = ScoringRule()) -> int:
    """The best possible total (every answer right at 0 ms): sizes leaderboards."""
    return sum(rule.base_points + rule.max_speed_bonus for _ in questions)


def score_attempt(questions: Iterable[Question], answers: Iterable[Answer],
                  rule: ScoringRule = ScoringRule()) -> AttemptScore:
    """Total, correct count and tie-break time of one member's attempt.

    Answers come in arrival order; the first per question counts. A question
    left unanswered adds its full time limit to the tie-break time, so skipping
    is never faster than answering.
    """
    by_id: dict[int, Question] = {}
    for question in questions:
        if question.id in by_id:
            raise ValueError(f"question {question.id} appears twice in the quiz")
        by_id[question.id] = question
    scored: list[AnswerScore] = []
    answered: set[int] = set()
    for answer in answers:
        question = by_id.get(answer.question_id)
        if question is None:
            raise ValueError(f"answer to unknown question {answer.question_id}")
        if answer.question_id in answered:
            scored.append(AnswerScore(answer.question_id, AnswerOutcome.DUPLICATE, 0, 0))
            continue
        answered.add(answer.question_id)
        scored.append(score_answer(question, answer, rule))
    unanswered_ms = sum(q.time_limit_ms for qid, q in by_id.items() if qid not in answered)
    return AttemptScore(
        total=sum(s.points for s in scored),
        correct=sum(s.outcome is AnswerOutcome.CORRECT for s in scored),
        elapsed_ms=sum(s.elapsed_ms for s in scored) + unanswered_ms,
        answers=tuple(scored),
    )
