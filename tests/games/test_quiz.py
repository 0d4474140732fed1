"""The quiz scoring engine, pure: no app, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from games.quiz import (
    Answer,
    AnswerOutcome,
    AnswerScore,
    AttemptScore,
    Question,
    ScoringRule,
    max_score,
    score_answer,
    score_attempt,
    speed_bonus,
)

RULE = ScoringRule(base_points=100, max_speed_bonus=100)
Q = Question(id=1, option_count=4, correct_option=2, time_limit_ms=20_000)

limits = st.integers(1, 120_000)
rules = st.builds(ScoringRule, base_points=st.integers(0, 1_000), max_speed_bonus=st.integers(0, 1_000))


def test_a_correct_instant_answer_earns_base_plus_the_full_bonus():
    assert score_answer(Q, Answer(1, 2, 0), RULE) == AnswerScore(1, AnswerOutcome.CORRECT, 200, 0)


def test_the_bonus_falls_linearly_and_rounds_down():
    assert score_answer(Q, Answer(1, 2, 10_000), RULE).points == 150
    assert score_answer(Q, Answer(1, 2, 10_001), RULE).points == 149  # 49.995 -> 49
    assert score_answer(Q, Answer(1, 2, 19_999), RULE).points == 100  # last scoring moment


def test_an_answer_exactly_at_the_limit_is_late_and_scores_nothing():
    at_limit = score_answer(Q, Answer(1, 2, 20_000), RULE)
    assert at_limit == AnswerScore(1, AnswerOutcome.LATE, 0, 20_000)
    later = score_answer(Q, Answer(1, 2, 95_000), RULE)
    assert later.outcome is AnswerOutcome.LATE and later.elapsed_ms == 20_000  # capped


def test_a_wrong_answer_scores_nothing_but_its_time_counts():
    assert score_answer(Q, Answer(1, 0, 3_000), RULE) == AnswerScore(1, AnswerOutcome.WRONG, 0, 3_000)


@pytest.mark.parametrize("kwargs", [
    {"option_count": 1}, {"option_count": 7}, {"correct_option": 4}, {"correct_option": -1},
    {"time_limit_ms": 0}, {"time_limit_ms": 1.5}, {"option_count": True},
])
def test_malformed_questions_are_refused(kwargs):
    fields = {"id": 1, "option_count": 4, "correct_option": 0, "time_limit_ms": 1000} | kwargs
    with pytest.raises((TypeError, ValueError)):
        Question(**fields)


def test_malformed_answers_are_refused():
    with pytest.raises(ValueError):
        Answer(1, 0, -1)
    with pytest.raises(ValueError):
        score_answer(Q, Answer(1, 4, 10), RULE)  # option 4 of 0..3
    with pytest.raises(ValueError):
        score_answer(Q, Answer(2, 0, 10), RULE)  # another question's answer


def test_an_attempt_sums_points_and_time_and_counts_correct_answers():
    q2 = Question(id=2, option_count=2, correct_option=0, time_limit_ms=10_000)
    result = score_attempt([Q, q2], [Answer(1, 2, 10_000), Answer(2, 1, 4_000)], RULE)
    assert result == AttemptScore(total=150, correct=1, elapsed_ms=14_000, answers=(
        AnswerScore(1, AnswerOutcome.CORRECT, 150, 10_000),
        AnswerScore(2, AnswerOutcome.WRONG, 0, 4_000),
    ))


def test_a_double_submit_is_ignored_and_never_scores_twice():
    result = score_attempt([Q], [Answer(1, 0, 1_000), Answer(1, 2, 1_500)], RULE)
    assert result.total == 0 and result.correct == 0 and result.elapsed_ms == 1_000
    assert result.answers[1] == AnswerScore(1, AnswerOutcome.DUPLICATE, 0, 0)
    replayed = score_attempt([Q], [Answer(1, 2, 1_000)] * 3, RULE)
    assert replayed.total == score_answer(Q, Answer(1, 2, 1_000), RULE).points


def test_an_answer_to_an_unknown_question_raises():
    with pytest.raises(ValueError, match="unknown question"):
        score_attempt([Q], [Answer(99, 0, 10)], RULE)


def test_a_quiz_with_a_repeated_question_id_is_refused():
    with pytest.raises(ValueError):
        score_attempt([Q, Q], [], RULE)


def test_unanswered_questions_count_their_full_time_limit():
    q2 = Question(id=2, option_count=2, correct_option=0, time_limit_ms=10_000)
    result = score_attempt([Q, q2], [Answer(2, 0, 1_000)], RULE)
    assert result.elapsed_ms == 1_000 + 20_000
    assert score_attempt([Q, q2], [], RULE).elapsed_ms == 30_000


@given(limit=limits, max_bonus=st.integers(0, 10_000), a=st.integers(0, 200_000),
       b=st.integers(0, 200_000))
def test_the_speed_bonus_never_grows_with_time_and_stays_in_range(limit, max_bonus, a, b):
    early, late = sorted((a, b))
    assert max_bonus >= speed_bonus(early, limit, max_bonus) >= speed_bonus(late, limit, max_bonus) >= 0
    assert speed_bonus(0, limit, max_bonus) == max_bonus
    assert speed_bonus(limit, limit, max_bonus) == 0


@given(limit=limits, rule=rules, elapsed=st.integers(0, 300_000), option=st.integers(0, 5),
       correct=st.integers(0, 5))
def test_scores_are_never_negative_and_never_above_the_maximum(limit, rule, elapsed, option, correct):
    question = Question(1, 6, correct, limit)
    scored = score_answer(question, Answer(1, option, elapsed), rule)
    assert 0 <= scored.points <= rule.base_points + rule.max_speed_bonus
    assert isinstance(scored.points, int)
    assert (scored.points > 0) <= (scored.outcome is AnswerOutcome.CORRECT)
    assert 0 <= scored.elapsed_ms <= limit


answer_lists = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 2), st.integers(0, 40_000)),
                        max_size=12)


@given(raw=answer_lists, rule=rules)
def test_an_attempt_scores_the_first_answer_per_question_only(raw, rule):
    questions = [Question(i, 3, i % 3, 10_000 * i) for i in range(1, 5)]
    answers = [Answer(*r) for r in raw]
    result = score_attempt(questions, answers, rule)
    firsts = {}
    for a in answers:
        firsts.setdefault(a.question_id, a)
    by_id = {q.id: q for q in questions}
    expected = [score_answer(by_id[qid], a, rule) for qid, a in firsts.items()]
    assert result.total == sum(s.points for s in expected)
    assert result.total <= max_score(questions, rule)
    assert result.correct == sum(s.outcome is AnswerOutcome.CORRECT for s in expected)
    assert len(result.answers) == len(answers)
    # replaying every answer again changes nothing but adds DUPLICATE rows
    again = score_attempt(questions, answers + answers, rule)
    assert (again.total, again.correct, again.elapsed_ms) == (result.total, result.correct,
                                                             result.elapsed_ms)
