"""Many plays at once, each thread with its own session and connection as web
workers have (CI runs this on PostgreSQL): a prize's quantity and the points
budget are never exceeded, one member's plays never pass the daily cap or the
balance, and one request key plays once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from games.instant_win import ODDS_SCALE
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import InstantWinGame, InstantWinPlay, InstantWinPrize, LedgerEntry
from webapp.services import ledger
from webapp.services.errors import InsufficientPoints
from webapp.services.members import audit
from webapp.services.play import instant_win
from webapp.services.play.instant_win import GameSpec, PrizeSpec

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

THREADS = 30
TZ = "Asia/Tehran"


def make_game(session, now, **changes) -> int:
    values = {"name_fa": "گردونه", "name_en": "Wheel", "opens_at": now - timedelta(days=1),
              "closes_at": now + timedelta(days=30), "daily_plays": 5,
              "prizes": (PrizeSpec(name_fa="۵۰ امتیاز", name_en="50 points", kind="points", value=50,
                                   odds_ppm=ODDS_SCALE, quantity=3),)}
    game = instant_win.create_game(session, GameSpec(**{**values, **changes}), actor=audit.CLI, now=now)
    instant_win.publish_game(session, game.id, actor=audit.CLI, now=now)
    session.commit()
    return game.id


def play_all(app, now, member_ids, game_id, key=lambda i: f"req-{i}"):
    return run_together(app, THREADS, lambda i: instant_win.play(
        db.session, member_id=member_ids[i], game_id=game_id, request_key=key(i), now=now, tz=TZ))


def test_thirty_plays_at_once_win_exactly_the_three_prizes_there_are(app, session, make_member, now):
    game_id = make_game(session, now, cost_points=10)
    members = [make_member(points=100, now=now).id for _ in range(THREADS)]
    session.remove()

    outcomes = play_all(app, now, members, game_id)

    assert all(isinstance(o, instant_win.PlayResult) for o in outcomes), outcomes
    assert sorted(o.play.outcome for o in outcomes) == ["sold_out"] * 27 + ["won"] * 3
    [prize] = session.scalars(select(InstantWinPrize).where(InstantWinPrize.game_id == game_id)).all()
    assert prize.remaining == 0
    assert session.get(InstantWinGame, game_id).points_given == 150
    assert session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.source_type == "instant_win")) \
        == 3 * 50 - THREADS * 10
    assert ledger.find_mismatches(session) == []


def test_a_points_budget_holds_under_thirty_plays_at_once(app, session, make_member, now):
    game_id = make_game(session, now, points_budget=120, prizes=(PrizeSpec(
        name_fa="۵۰ امتیاز", name_en="50 points", kind="points", value=50, odds_ppm=ODDS_SCALE, quantity=100),))
    members = [make_member(now=now).id for _ in range(THREADS)]
    session.remove()

    outcomes = play_all(app, now, members, game_id)

    assert sorted(o.play.outcome for o in outcomes) == ["sold_out"] * 28 + ["won"] * 2, outcomes
    assert session.get(InstantWinGame, game_id).points_given == 100
    assert ledger.find_mismatches(session) == []


def test_one_members_plays_at_once_never_pass_the_daily_cap(app, session, make_member, now):
    game_id = make_game(session, now, daily_plays=4)
    member_id = make_member(now=now).id
    session.remove()

    outcomes = play_all(app, now, [member_id] * THREADS, game_id)

    assert sum(isinstance(o, instant_win.PlayResult) for o in outcomes) == 4, outcomes
    assert {type(o) for o in outcomes if not isinstance(o, instant_win.PlayResult)} == {
        instant_win.DailyLimitReached}
    assert session.scalar(select(func.count()).select_from(InstantWinPlay)) == 4


def test_one_members_plays_at_once_never_overdraw(app, session, make_member, now):
    game_id = make_game(session, now, cost_points=30, daily_plays=100,
                        prizes=(PrizeSpec(name_fa="هیچ", name_en="Tiny", kind="points", value=1, odds_ppm=1,
                                          quantity=1),))
    member_id = make_member(points=100, now=now).id
    session.remove()

    outcomes = play_all(app, now, [member_id] * THREADS, game_id)

    played = [o for o in outcomes if isinstance(o, instant_win.PlayResult)]
    assert all(isinstance(o, instant_win.PlayResult | InsufficientPoints) for o in outcomes), outcomes
    won = sum(o.won for o in played)
    assert len(played) == 3 and ledger.balance_of(session, member_id, "points") == 10 + won
    assert ledger.find_mismatches(session) == []


def test_one_request_key_sent_thirty_times_at_once_plays_once(app, session, make_member, now):
    game_id = make_game(session, now, cost_points=10)
    member_id = make_member(points=100, now=now).id
    session.remove()

    outcomes = play_all(app, now, [member_id] * THREADS, game_id, key=lambda i: "double-click")

    assert all(isinstance(o, instant_win.PlayResult) for o in outcomes), outcomes
    assert len({o.play.id for o in outcomes}) == 1 and sum(not o.replayed for o in outcomes) == 1
    assert ledger.balance_of(session, member_id, "points") == 100 - 10 + 50
