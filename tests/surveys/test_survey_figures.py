"""The survey arithmetic, with no app: NPS = %promoters − %detractors of exact
counts rounded once, CSAT average and shares, the empty set, the scales."""

from __future__ import annotations

import pytest

from webapp.services.surveys import rules


def test_nps_of_a_constructed_set_counts_each_group_and_rounds_once():
    # 4 promoters (9,10,10,9), 3 passives (7,8,8), 3 detractors (0,6,5): 10 answers
    f = rules.figures("nps", {9: 2, 10: 2, 7: 1, 8: 2, 0: 1, 6: 1, 5: 1})
    assert (f.answers, f.promoters, f.passives, f.detractors) == (10, 4, 3, 3)
    assert f.nps == 10  # 40 % − 30 %
    assert f.percent(f.promoters) == 40
    assert sum(f.distribution.values()) == 10 and set(f.distribution) == set(range(11))


def test_nps_rounds_the_difference_not_each_share():
    # 1 promoter, 0 detractors in 3: 33.3 → 33; 2 promoters 1 detractor in 8: 12.5 → 13 (half up)
    assert rules.figures("nps", {10: 1, 7: 2}).nps == 33
    assert rules.figures("nps", {10: 2, 0: 1, 8: 5}).nps == 13
    assert rules.figures("nps", {0: 2, 10: 1, 8: 5}).nps == -13  # halves away from zero both ways


def test_nps_spans_minus_100_to_100():
    assert rules.figures("nps", {0: 5}).nps == -100
    assert rules.figures("nps", {10: 3, 9: 1}).nps == 100
    assert rules.figures("nps", {7: 4}).nps == 0


def test_an_empty_set_has_no_score_rather_than_zero():
    for kind in ("nps", "csat"):
        f = rules.figures(kind, {})
        assert f.answers == 0 and f.nps is None and f.average is None and f.percent(0) is None
        assert set(f.distribution.values()) == {0}


def test_csat_average_and_satisfied_share():
    f = rules.figures("csat", [(5, 2), (4, 1), (2, 1), (1, 0)])
    assert f.answers == 4
    assert f.average == 4.0  # (10 + 4 + 2) / 4
    assert f.satisfied_percent == 75
    assert f.detractors == 1
    assert rules.figures("csat", {5: 1, 4: 2}).average == 4.33


@pytest.mark.parametrize(("kind", "score", "ok"), [
    ("nps", 0, True), ("nps", 10, True), ("nps", 11, False), ("nps", -1, False), ("nps", "5", False),
    ("nps", True, False), ("csat", 0, False), ("csat", 1, True), ("csat", 5, True), ("csat", 6, False),
])
def test_scores_off_the_scale_are_not_valid(kind, score, ok):
    assert rules.valid_score(kind, score) is ok


def test_detractors_are_6_or_less_on_nps_and_2_or_less_on_csat():
    assert [s for s in range(11) if rules.is_detractor("nps", s)] == list(range(7))
    assert [s for s in range(1, 6) if rules.is_detractor("csat", s)] == [1, 2]
    assert [rules.nps_group(s) for s in (6, 7, 8, 9)] == ["detractor", "passive", "passive", "promoter"]
