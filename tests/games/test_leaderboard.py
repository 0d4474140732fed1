"""Leaderboard ranking and its Redis sorted-set encoding, pure."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from games.leaderboard import (
    EXACT_DOUBLE_LIMIT,
    PREDICTION_LAYOUT,
    QUIZ_LAYOUT,
    Entry,
    SortedSetLayout,
    decode_sorted_set_score,
    order_key,
    rank_entries,
    sorted_set_score,
    top,
)


def ranks(entries):
    return [(s.entry.member_id, s.rank) for s in rank_entries(entries)]


def test_score_then_time_then_submission_then_member_id():
    entries = [Entry(1, 10, 500, 9), Entry(2, 20, 900, 9), Entry(3, 10, 400, 9),
               Entry(4, 10, 500, 3)]
    assert ranks(entries) == [(2, 1), (3, 2), (4, 3), (1, 4)]


def test_competition_ranks_share_only_on_equal_score_time_and_submission():
    entries = [Entry(7, 30, 100, 5), Entry(3, 20, 100, 5), Entry(9, 20, 100, 5),
               Entry(1, 10, 100, 5), Entry(2, 10, 100, 6)]
    # member id orders the tied pair for display but never splits their rank
    assert ranks(entries) == [(7, 1), (3, 2), (9, 2), (1, 4), (2, 5)]


def test_top_keeps_everyone_tied_across_the_cut():
    standings = rank_entries([Entry(1, 9, 0, 0), Entry(2, 5, 0, 0), Entry(3, 5, 0, 0),
                              Entry(4, 1, 0, 0)])
    assert [s.entry.member_id for s in top(standings, 2)] == [1, 2, 3]
    assert [s.entry.member_id for s in top(standings, 1)] == [1]


def test_a_member_listed_twice_is_refused():
    with pytest.raises(ValueError):
        rank_entries([Entry(1, 1, 0, 0), Entry(1, 2, 0, 0)])


def test_negative_or_fractional_values_are_refused():
    with pytest.raises(ValueError):
        Entry(1, -1, 0, 0)
    with pytest.raises(TypeError):
        Entry(1, 1, 0.5, 0)


def test_the_presets_fit_in_53_bits_and_a_larger_layout_is_refused():
    for layout in (QUIZ_LAYOUT, PREDICTION_LAYOUT):
        assert sorted_set_score(layout.max_score, 0, 0, layout) == EXACT_DOUBLE_LIMIT - 1
        assert sorted_set_score(0, layout.max_elapsed_ms, layout.horizon_ms, layout) == 0
    with pytest.raises(ValueError, match="53 bits"):
        SortedSetLayout(max_score=2**12, max_elapsed_ms=2**20 - 1, horizon_ms=2**21 - 1)


@pytest.mark.parametrize("args", [(2**12, 0, 0), (0, 2**20, 0), (0, 0, 2**21), (-1, 0, 0)])
def test_values_outside_the_layout_are_refused_not_rounded(args):
    with pytest.raises(ValueError):
        sorted_set_score(*args, layout=QUIZ_LAYOUT)


def test_the_encoding_decodes_back_even_through_a_double():
    encoded = sorted_set_score(4_000, 1_000_000, 2_000_000)
    assert float(encoded) == encoded  # survives a Redis double exactly
    assert decode_sorted_set_score(float(encoded)) == (4_000, 1_000_000, 2_000_000)


def entries_within(layout):
    def build(member_id, score, elapsed, submitted):
        return Entry(member_id, score, elapsed, submitted)

    # small ranges make ties likely; the bounds themselves are included
    def near(bound):
        return st.one_of(st.integers(0, 3), st.integers(0, bound), st.sampled_from([bound, bound - 1]))

    return st.lists(st.builds(build, st.integers(0, 10**6), near(layout.max_score),
                              near(max(layout.max_elapsed_ms, 1)).map(
                                  lambda v: min(v, layout.max_elapsed_ms)),
                              near(layout.horizon_ms)),
                    max_size=40, unique_by=lambda e: e.member_id)


@pytest.mark.parametrize("layout", [QUIZ_LAYOUT, PREDICTION_LAYOUT], ids=["quiz", "prediction"])
@given(data=st.data())
def test_redis_order_of_the_encoded_number_is_the_full_rule(layout, data):
    entries = data.draw(entries_within(layout))
    # a ZSET read with ZREVRANGE: descending by the (double) score; ties by member
    encoded = {e.member_id: float(sorted_set_score(e.score, e.elapsed_ms, e.submitted_at_ms, layout))
               for e in entries}
    redis_order = sorted(entries, key=lambda e: (-encoded[e.member_id], e.member_id))
    assert redis_order == sorted(entries, key=order_key)
    # and ZCOUNT of strictly higher scores + 1 is the competition rank
    for standing in rank_entries(entries):
        mine = encoded[standing.entry.member_id]
        assert standing.rank == 1 + sum(v > mine for v in encoded.values())
        e = standing.entry
        assert decode_sorted_set_score(mine, layout) == (e.score, e.elapsed_ms, e.submitted_at_ms)


small = st.builds(Entry, st.integers(0, 50), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2))


@given(entries=st.lists(small, max_size=30, unique_by=lambda e: e.member_id),
       rnd=st.randoms(use_true_random=False))
def test_ranking_is_permutation_invariant_and_stable_under_ties(entries, rnd):
    standings = rank_entries(entries)
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert rank_entries(shuffled) == standings
    for before, after in zip(standings, standings[1:], strict=False):
        assert order_key(before.entry) < order_key(after.entry)
        tied = order_key(before.entry)[:3] == order_key(after.entry)[:3]
        assert (after.rank == before.rank) == tied
    assert [s.rank for s in standings[:1]] in ([], [1])
    for position, standing in enumerate(standings, start=1):
        better = sum(order_key(e)[:3] < order_key(standing.entry)[:3] for e in entries)
        assert standing.rank == better + 1 <= position
