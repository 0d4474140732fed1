"""The instant-win decision, pure: the roll is a parameter."""

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from games.instant_win import (
    ODDS_SCALE,
    Prize,
    Spin,
    SpinOutcome,
    check_prizes,
    no_win_odds,
    spin,
)

MUG = Prize(id=1, weight=100_000, remaining=5)
VOUCHER = Prize(id=2, weight=10_000, remaining=1)


def test_prizes_are_laid_end_to_end_in_the_order_given():
    prizes = [MUG, VOUCHER]
    assert spin(prizes, 0) == Spin(SpinOutcome.WON, MUG, MUG)
    assert spin(prizes, 99_999).prize == MUG
    assert spin(prizes, 100_000).prize == VOUCHER
    assert spin(prizes, 109_999).prize == VOUCHER
    assert spin(prizes, 110_000) == Spin(SpinOutcome.NO_WIN, None)
    assert spin(prizes, ODDS_SCALE - 1).outcome is SpinOutcome.NO_WIN


def test_a_sold_out_prize_is_no_win_and_its_odds_do_not_move_to_others():
    gone = Prize(id=1, weight=100_000, remaining=0)
    result = spin([gone, VOUCHER], 50_000)
    assert result == Spin(SpinOutcome.SOLD_OUT, None, gone) and not result.won
    assert spin([gone, VOUCHER], 100_000).prize == VOUCHER  # the voucher's range is unchanged
    assert no_win_odds([gone, VOUCHER]) == ODDS_SCALE - 10_000


@pytest.mark.parametrize("roll", [-1, ODDS_SCALE, 1.0, True])
def test_rolls_outside_the_range_are_refused(roll):
    with pytest.raises((TypeError, ValueError)):
        spin([MUG], roll)


def test_odds_above_one_or_repeated_ids_are_refused():
    with pytest.raises(ValueError, match="add up"):
        spin([Prize(1, 600_000, 1), Prize(2, 400_001, 1)], 0)
    check_prizes([Prize(1, 600_000, 1), Prize(2, 400_000, 1)])  # exactly 1 is fine
    with pytest.raises(ValueError, match="unique"):
        check_prizes([Prize(1, 1, 1), Prize(1, 1, 1)])
    with pytest.raises(ValueError):
        Prize(1, -1, 1)
    with pytest.raises(ValueError):
        Prize(1, 1, -1)


weights = st.lists(st.integers(0, 200_000), max_size=5)


def tally(prizes, rolls):
    counts = Counter()
    for roll in rolls:
        result = spin(prizes, roll)
        counts[result.prize.id if result.won else result.outcome] += 1
    return counts


@pytest.mark.parametrize("prizes", [
    [Prize(1, 1, 1), Prize(2, 249_999, 7), Prize(3, 0, 5), Prize(4, 500_000, 0), Prize(5, 3, 2)],
    [Prize(9, 1_000_000, 1)],
], ids=["mixed", "always"])
def test_frequencies_over_every_roll_equal_the_odds_exactly(prizes):
    counts = tally(prizes, range(ODDS_SCALE))
    for prize in prizes:
        assert counts[prize.id] == (prize.weight if prize.remaining else 0)
    assert counts[SpinOutcome.SOLD_OUT] == sum(p.weight for p in prizes if not p.remaining)
    assert counts[SpinOutcome.NO_WIN] == ODDS_SCALE - sum(p.weight for p in prizes)
    assert counts[SpinOutcome.NO_WIN] + counts[SpinOutcome.SOLD_OUT] == no_win_odds(prizes)


@given(ws=weights, sold_out=st.lists(st.booleans(), min_size=5, max_size=5))
def test_every_prize_range_starts_and_ends_where_its_weight_says(ws, sold_out):
    # the exhaustive count above is slow; here the edges of every range, for any odds
    prizes = [Prize(i, w, 0 if sold_out[i] else 3) for i, w in enumerate(ws)]
    start = 0
    for prize in prizes:
        if prize.weight:
            for roll in (start, start + prize.weight - 1):
                assert spin(prizes, roll).landed_on == prize
                assert spin(prizes, roll).won == (prize.remaining > 0)
        start += prize.weight
    if start < ODDS_SCALE:
        assert spin(prizes, start).outcome is SpinOutcome.NO_WIN
        assert spin(prizes, ODDS_SCALE - 1).outcome is SpinOutcome.NO_WIN


@given(ws=weights, roll=st.integers(0, ODDS_SCALE - 1))
def test_a_won_prize_always_has_stock_left(ws, roll):
    prizes = [Prize(i, w, i % 2) for i, w in enumerate(ws)]
    result = spin(prizes, roll)
    assert (result.prize is not None) == result.won
    if result.won:
        assert result.prize.remaining > 0 and result.prize in prizes
