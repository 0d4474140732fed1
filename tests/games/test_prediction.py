"""The prediction scoring engine, pure: no app, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from games.prediction import (
    Mode,
    Outcome,
    Prediction,
    PredictionQuestion,
    PredictionRule,
    PredictionScore,
    score_predictions,
)

MATCH = PredictionQuestion.number(arity=2, minimum=0, maximum=99)
WINNER = PredictionQuestion.options(3)
CLOSEST = PredictionRule(Mode.CLOSEST, exact_points=100, closest_points=30)


def points(scores):
    return {s.member_id: s.points for s in scores}


def test_the_exact_rule_pays_only_exact_predictions():
    preds = [Prediction(1, (2, 1)), Prediction(2, (2, 2)), Prediction(3, (2, 1))]
    assert points(score_predictions(MATCH, (2, 1), preds)) == {1: 100, 2: 0, 3: 100}


def test_an_options_question_scores_an_exact_match():
    scores = score_predictions(WINNER, (1,), [Prediction(5, (1,)), Prediction(4, (2,))])
    assert scores == (PredictionScore(4, Outcome.MISSED, 0, 1),
                      PredictionScore(5, Outcome.EXACT, 100, 0))


def test_closest_pays_every_non_exact_prediction_at_the_smallest_distance():
    preds = [Prediction(1, (2, 1)), Prediction(2, (1, 1)), Prediction(3, (2, 2)),
             Prediction(4, (0, 0)), Prediction(5, (3, 0))]
    scores = score_predictions(MATCH, (2, 1), preds, CLOSEST)
    assert points(scores) == {1: 100, 2: 30, 3: 30, 4: 0, 5: 0}
    assert [s.distance for s in scores] == [0, 1, 1, 3, 2]


def test_closest_still_pays_when_nobody_is_exact():
    preds = [Prediction(1, (7,)), Prediction(2, (13,)), Prediction(3, (20,))]
    q = PredictionQuestion.number()
    assert points(score_predictions(q, (10,), preds, CLOSEST)) == {1: 30, 2: 30, 3: 0}


def test_closest_on_an_options_question_is_refused():
    with pytest.raises(ValueError):
        score_predictions(WINNER, (0,), [], CLOSEST)


@pytest.mark.parametrize("value", [(1,), (1, 2, 3), (-1, 0), (100, 0), (1.0, 2), [1, 2]])
def test_impossible_answers_are_refused(value):
    with pytest.raises(ValueError):
        score_predictions(MATCH, (1, 1), [Prediction(1, value)])
    with pytest.raises(ValueError):
        score_predictions(MATCH, value, [])


def test_a_member_cannot_predict_twice():
    with pytest.raises(ValueError, match="twice"):
        score_predictions(MATCH, (1, 1), [Prediction(1, (1, 1)), Prediction(1, (0, 0))])


@pytest.mark.parametrize("kwargs", [
    {"mode": Mode.CLOSEST, "exact_points": 10, "closest_points": 10},
    {"mode": Mode.EXACT, "exact_points": 10, "closest_points": 5},
    {"exact_points": -1}, {"exact_points": 1.5},
])
def test_inconsistent_rules_are_refused(kwargs):
    with pytest.raises((TypeError, ValueError)):
        PredictionRule(**kwargs)


def test_malformed_questions_are_refused():
    with pytest.raises(ValueError):
        PredictionQuestion.options(1)
    with pytest.raises(ValueError):
        PredictionQuestion.number(arity=0)
    with pytest.raises(ValueError):
        PredictionQuestion.number(minimum=5, maximum=4)


scores_st = st.tuples(st.integers(0, 9), st.integers(0, 9))
preds_st = st.dictionaries(st.integers(1, 10_000), scores_st, max_size=30)
rules_st = st.one_of(
    st.builds(PredictionRule, st.just(Mode.EXACT), st.integers(0, 500)),
    st.integers(1, 500).flatmap(lambda e: st.builds(
        PredictionRule, st.just(Mode.CLOSEST), st.just(e), st.integers(0, e - 1))),
)


@given(result=scores_st, raw=preds_st, rule=rules_st, seed=st.randoms(use_true_random=False))
def test_scoring_is_deterministic_order_independent_and_never_negative(result, raw, rule, seed):
    preds = [Prediction(m, v) for m, v in raw.items()]
    scores = score_predictions(MATCH, result, preds, rule)
    shuffled = list(preds)
    seed.shuffle(shuffled)
    assert score_predictions(MATCH, result, shuffled, rule) == scores
    assert [s.member_id for s in scores] == sorted(raw)
    assert all(s.points >= 0 for s in scores)


@given(result=scores_st, raw=preds_st, rule=rules_st)
def test_closer_predictions_never_earn_less(result, raw, rule):
    scores = score_predictions(MATCH, result, [Prediction(m, v) for m, v in raw.items()], rule)
    for a in scores:
        for b in scores:
            if a.distance < b.distance:
                assert a.points >= b.points
        assert (a.outcome is Outcome.EXACT) == (a.distance == 0)
    if rule.mode is Mode.CLOSEST:
        misses = [s.distance for s in scores if s.distance]
        closest = [s for s in scores if s.outcome is Outcome.CLOSEST]
        assert {s.distance for s in closest} == ({min(misses)} if misses else set())
