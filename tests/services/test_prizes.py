"""prizes.give and give_many: every game's prizes, once per key (the games'
own keys, unchanged), points set-based for many winners."""

from __future__ import annotations

from sqlalchemy import func, select

from tests import factories
from webapp.models import Coupon, LedgerEntry
from webapp.services import ledger
from webapp.services.play import prizes


def test_give_many_pays_every_winner_once_and_a_retry_pays_nothing(session, make_member, now):
    first, second, third = (make_member(now=now) for _ in range(3))
    reward = factories.reward(session, now, kind="raffle_tickets", name_fa="بلیت", name_en="Tickets",
                              cost_points=500, value=3)
    awards = [prizes.Award(first.id, "points", "game:1:prize:1", amount=500),
              prizes.Award(second.id, "credit", "game:1:prize:2", amount=7_000),
              prizes.Award(third.id, "reward", "game:1:prize:3", reward_id=reward.id, coupon_key="game:1:3"),
              prizes.Award(second.id, "points", "game:1:prize:4", amount=100)]
    about = {"now": now, "source": ("contest", 1), "description": "Prize", "expiring": False}

    given = prizes.give_many(session, awards, **about)
    again = prizes.give_many(session, awards, **about)
    session.commit()

    assert [(g.kind, g.amount, g.issued, g.replayed) for g in given] == [
        ("points", 500, True, False), ("credit", 7_000, True, False), ("reward", 0, True, False),
        ("points", 100, True, False)]
    assert [g.replayed for g in again] == [True, True, False, True]
    assert again[2].coupon_id == given[2].coupon_id  # the same coupon, found by its key
    assert ledger.balance_of(session, first.id, "points") == 500
    assert ledger.balance_of(session, second.id, "points") == 100
    assert ledger.balance_of(session, second.id, "credit") == 7_000
    assert session.scalar(select(Coupon.request_key).where(Coupon.member_id == third.id)) == "grant:game:1:3"
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.idempotency_key.like("game:1:%"))) == 3
    assert ledger.entry_by_key(session, "game:1:prize:1").source_type == "contest"


def test_a_reward_that_cannot_be_issued_is_reported_not_raised(session, make_member, now):
    member = make_member(now=now)
    reward = factories.reward(session, now, kind="raffle_tickets", name_fa="بلیت", name_en="Tickets",
                              cost_points=500, value=3, stock=0)
    given = prizes.give(session, member_id=member.id, kind="reward", reward_id=reward.id, key="game:2:prize:1",
                        now=now, source=("raffle", 2), description="Prize")
    assert (given.issued, given.coupon_id, given.refusal) == (False, None, "out_of_stock")
