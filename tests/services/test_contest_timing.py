"""The per-contest tie-break unit: the finest unit in which the whole period
fits next to the score and elapsed bounds, so the Redis encoding stays exact
for a contest open for minutes or for weeks, and a later close keeps the unit
once members have played."""

from __future__ import annotations

from datetime import timedelta

import pytest

from games.leaderboard import EXACT_DOUBLE_LIMIT, decode_sorted_set_score, sorted_set_score
from tests.factories import make_quiz
from webapp.services.members import audit
from webapp.services.play import contest_play, registry, timing
from webapp.services.play import contests as service

HOUR = 3_600_000


@pytest.mark.parametrize(("period_ms", "unit"), [(30 * 60_000, 1), (3 * 24 * HOUR, 10),
                                                 (60 * 24 * HOUR, 100), (365 * 24 * HOUR, 1000), (3 * 365 * 24 * HOUR, 60_000)])
def test_the_unit_is_the_finest_that_fits(period_ms, unit):
    max_score, max_elapsed = 5 * 200, 5 * 20_000
    assert timing.tie_unit_ms(max_score, max_elapsed, period_ms) == unit
    layout = timing.layout(max_score, max_elapsed, period_ms, unit)
    top = sorted_set_score(max_score, 0, 0, layout)
    last = sorted_set_score(0, max_elapsed, layout.horizon_ms, layout)
    assert top < EXACT_DOUBLE_LIMIT and float(top) == top and last == 0
    assert decode_sorted_set_score(float(sorted_set_score(7, 3, layout.horizon_ms, layout)), layout) == (
        7, 3, layout.horizon_ms)


def test_tie_time_counts_units_since_the_opening_and_stops_at_the_close(now):
    opens, closes = now, now + timedelta(hours=1)
    assert timing.tie_time(opens, closes, now + timedelta(milliseconds=1234), 10) == 123
    assert timing.tie_time(opens, closes, closes + timedelta(hours=5), 10) == HOUR // 10


def test_publishing_fixes_the_unit_and_a_later_close_keeps_it_once_played(session, make_member, now):
    member = make_member()
    contest = make_quiz(session, now, questions=5, opens=now - timedelta(hours=1),
                        closes=now + timedelta(days=3))
    assert contest.tie_unit_ms == 10
    assert registry.get_type("quiz").layout(session, contest).horizon_ms >= 3 * 24 * HOUR // 10
    contest_play.start_attempt(session, contest_id=contest.id, member_id=member.id, now=now)
    spec = service.ContestSpec(kind="quiz", name_fa=contest.name_fa, name_en=contest.name_en,
                               opens_at=contest.opens_at, closes_at=now + timedelta(days=5))
    service.update_contest(session, contest.id, spec, actor=audit.CLI, now=now)
    assert contest.tie_unit_ms == 10 and contest.closes_at == now + timedelta(days=5)
    # 20 days no longer fit in 10 ms units: refused rather than re-unit the tie times already stored
    with pytest.raises(service.ContestInvalid):
        service.update_contest(session, contest.id, service.ContestSpec(
            **{**spec.__dict__, "closes_at": now + timedelta(days=20)}), actor=audit.CLI, now=now)
