"""Twenty redemptions at once, each thread with its own session and connection
as web workers have (CI runs this on PostgreSQL): stock and balances never go
below zero, partner codes go out once each, one request key issues one coupon."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import Coupon, Member, Reward, VoucherCode
from webapp.services import ledger
from webapp.services.errors import InsufficientPoints
from webapp.services.members import audit
from webapp.services.offers import rewards

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

THREADS = 20


def redeem_all(app, now, member_ids, reward_id, key=lambda i: f"req-{i}"):
    return run_together(app, THREADS, lambda i: rewards.redeem_reward(
        db.session, member_id=member_ids[i], reward_id=reward_id, request_key=key(i), now=now))


def test_concurrent_redemptions_never_oversell_stock(app, session, make_member, now):
    reward_id = factories.reward(session, now, stock=5).id
    session.commit()
    members = [make_member(points=1_000, now=now).id for _ in range(THREADS)]
    session.remove()

    outcomes = redeem_all(app, now, members, reward_id)

    done = [o for o in outcomes if isinstance(o, rewards.Redemption)]
    assert len(done) == 5, outcomes
    assert {type(o) for o in outcomes if o not in done} == {rewards.OutOfStock}
    reward = session.get(Reward, reward_id)
    assert (reward.stock, reward.issued_count) == (0, 5)
    assert session.scalar(select(func.count()).select_from(Coupon)) == 5
    charged = session.scalar(select(func.count()).select_from(Member).where(Member.points_balance == 900))
    assert charged == 5 and ledger.find_mismatches(session) == []


def test_concurrent_redemptions_by_one_member_never_overdraw(app, session, make_member, now):
    reward_id = factories.reward(session, now).id  # unlimited stock: only the balance limits
    session.commit()
    member_id = make_member(points=350, now=now).id
    session.remove()

    outcomes = redeem_all(app, now, [member_id] * THREADS, reward_id)

    assert sum(isinstance(o, rewards.Redemption) for o in outcomes) == 3, outcomes
    assert all(isinstance(o, (rewards.Redemption, InsufficientPoints)) for o in outcomes)
    assert ledger.balance_of(session, member_id, "points") == 50
    assert session.get(Reward, reward_id).issued_count == 3
    assert ledger.find_mismatches(session) == []


def test_concurrent_partner_voucher_redemptions_hand_out_distinct_codes(app, session, make_member, now):
    reward_id = factories.reward(session, now, kind="partner_voucher", value=0).id
    session.commit()
    rewards.add_voucher_codes(session, reward_id, [f"P-{n}" for n in range(5)], actor=audit.CLI, now=now)
    session.commit()
    members = [make_member(points=1_000, now=now).id for _ in range(THREADS)]
    session.remove()

    outcomes = redeem_all(app, now, members, reward_id)

    codes = [o.coupon.partner_code for o in outcomes if isinstance(o, rewards.Redemption)]
    assert sorted(codes) == [f"P-{n}" for n in range(5)], outcomes
    assert session.scalar(select(func.count()).select_from(VoucherCode).where(VoucherCode.coupon_id.is_(None))) == 0
    assert session.get(Reward, reward_id).stock == 0


def test_one_request_key_sent_twenty_times_at_once_issues_one_coupon(app, session, make_member, now):
    reward_id = factories.reward(session, now).id
    session.commit()
    member_id = make_member(points=1_000, now=now).id
    session.remove()

    outcomes = redeem_all(app, now, [member_id] * THREADS, reward_id, key=lambda i: "double-click")

    assert all(isinstance(o, rewards.Redemption) for o in outcomes), outcomes
    assert len({o.coupon.id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert ledger.balance_of(session, member_id, "points") == 900
