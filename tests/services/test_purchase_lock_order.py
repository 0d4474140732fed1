"""One member, many writers at the same moment, each thread with its own session
and connection (as web workers have): purchases that complete challenges with
catalog rewards, a refund racing purchases and a redemption, and check-ins.

The point is the lock order on PostgreSQL: every writer takes the member row
(FOR NO KEY UPDATE) before anything else of the member's. A FOR UPDATE member
lock deadlocked here with the key-share locks that inserting purchases and
coupons takes. On SQLite, BEGIN IMMEDIATE simply serialises the same work; the
exactly-once and never-negative checks hold on both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import (
    ChallengeEntry,
    CheckIn,
    Coupon,
    LedgerEntry,
    Member,
    Purchase,
    PurchaseRefund,
    Reward,
    RuleAward,
)
from webapp.services import ledger, tiers
from webapp.services.errors import InsufficientPoints
from webapp.services.ledger.purchases import ItemLine, record_purchase, refund_purchase
from webapp.services.members import audit
from webapp.services.offers import challenges, checkin, earn_rules, rewards
from webapp.services.offers.challenges import ChallengeSpec
from webapp.services.offers.rule_engine import Rule
from webapp.services.tiers.rules import Level, Program

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

DAY = timedelta(days=1)
THREADS = 12


def add_challenge(session, now, **kw) -> int:
    values = {"name_fa": "چالش", "name_en": "Challenge", "metric": "purchase_count", "goal": 2,
              "starts_at": now - DAY, "ends_at": now + 30 * DAY, **kw}
    challenge = challenges.create_challenge(session, ChallengeSpec(**values), actor=audit.CLI, now=now)
    challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now)
    return challenge.id


def add_tiers(session, now) -> None:
    """A tier program the purchases climb, so upgrades run inside the race too."""
    tiers.save_program(session, Program("points_earned", "rolling", (
        Level(0, "bronze", "برنزی", "Bronze", 0), Level(1, "silver", "نقره‌ای", "Silver", 30),
        Level(2, "gold", "طلایی", "Gold", 90)), window_days=365), actor=audit.CLI, now=now)


def add_rule(session, now, trigger, **kw) -> int:
    row = earn_rules.create_rule(session, Rule(id=None, family_id=None, trigger=trigger, name_fa="قانون",
                                               name_en="Rule", **kw), actor=audit.CLI, now=now)
    earn_rules.activate_rule(session, row.id, actor=audit.CLI, now=now)
    return row.family_id or row.id


def buy(session, member_id, when, *, ref, amount=100_000, category="coffee"):
    return record_purchase(session, member_id=member_id, amount=amount, currency="IRR", occurred_at=when,
                           now=when, external_ref=ref, items=[ItemLine("SKU-1", category, 1, amount)])


def no_running_sum_below_zero(session, member_id) -> bool:
    """Every posting of one member happens under the member lock, so entry ids are
    in the order the balance moved: the running sum is the balance after each."""
    for currency in ("points", "credit"):
        running = 0
        for amount in session.scalars(select(LedgerEntry.amount).where(
                LedgerEntry.member_id == member_id, LedgerEntry.currency == currency).order_by(LedgerEntry.id)):
            running += amount
            if running < 0:
                return False
    return True


def test_concurrent_purchases_completing_challenges_with_catalog_rewards_grant_each_once(
        app, session, make_member, now):
    member = make_member(now=now).id
    add_tiers(session, now)
    by_count = factories.reward(session, now, stock=10).id
    by_spend = factories.reward(session, now, kind="free_product", product_sku="SKU-CAKE", name_en="Cake").id
    count_challenge = add_challenge(session, now, goal=2, reward_id=by_count)
    spend_challenge = add_challenge(session, now, metric="spend", goal=150_000, reward_id=by_spend,
                                    reward_points=50, perk_multiplier_bp=15_000)
    add_rule(session, now, "purchase", points=7)  # a designer rule: its award runs in the race too
    for challenge_id in (count_challenge, spend_challenge):
        challenges.join_challenge(session, challenge_id=challenge_id, member_id=member, now=now)
    buy(session, member, now, ref="first")  # one short of both goals
    session.commit()
    session.remove()

    later = now + timedelta(hours=1)
    outcomes = run_together(app, THREADS, lambda i: buy(db.session, member, later, ref=f"till-{i}"))

    assert all(not isinstance(o, Exception) for o in outcomes), outcomes  # no deadlock, nothing refused
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.count()).select_from(Purchase)) == 1 + THREADS
        for challenge_id, reward_id in ((count_challenge, by_count), (spend_challenge, by_spend)):
            coupons = list(s.scalars(select(Coupon).where(Coupon.member_id == member,
                                                          Coupon.reward_id == reward_id)))
            assert len(coupons) == 1, (challenge_id, coupons)
            entry = s.scalar(select(ChallengeEntry).where(ChallengeEntry.challenge_id == challenge_id))
            assert entry.completed_at is not None and entry.coupon_id == coupons[0].id
            assert coupons[0].points_spent == 0  # granted, not bought
        reward = s.get(Reward, by_count)
        assert (reward.stock, reward.issued_count) == (9, 1)
        assert list(s.scalars(select(LedgerEntry.amount).where(
            LedgerEntry.idempotency_key == f"challenge:{spend_challenge}:member:{member}:reward"))) == [50]
        assert s.scalar(select(func.count()).select_from(RuleAward)) == 1 + THREADS
        assert s.get(Member, member).tier_id is not None
        assert ledger.find_mismatches(s) == []


def test_a_refund_racing_purchases_and_a_redemption_never_deadlocks_or_goes_negative(
        app, session, make_member, now):
    member = make_member(now=now).id
    add_tiers(session, now)
    reward_id = factories.reward(session, now, cost_points=25).id
    challenge_id = add_challenge(session, now, goal=20, reward_points=100)  # refunds and purchases recount it
    challenges.join_challenge(session, challenge_id=challenge_id, member_id=member, now=now)
    refunded = buy(session, member, now, ref="to-refund", amount=300_000)[0].id  # 30 points
    buy(session, member, now, ref="kept", amount=100_000)  # 10 more
    session.commit()
    session.remove()

    later = now + timedelta(hours=1)

    def work(i):
        if i == 0:
            return refund_purchase(db.session, purchase_id=refunded, now=later, external_ref="r-1")
        if i % 2:  # redemptions compete with the refund for the same 40 points
            return rewards.redeem_reward(db.session, member_id=member, reward_id=reward_id,
                                         request_key=f"redeem-{i}", now=later)
        return buy(db.session, member, later, ref=f"till-{i}", amount=50_000)  # 5 points each

    outcomes = run_together(app, THREADS, work)

    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientPoints)]
    assert unexpected == [], outcomes
    assert isinstance(outcomes[0], PurchaseRefund)
    with app.app_context():
        s = db.session
        found = s.get(Member, member)
        assert found.points_balance >= 0 and found.credit_balance >= 0
        assert no_running_sum_below_zero(s, member)
        refund = s.scalar(select(PurchaseRefund))
        # what the refund could not take back is recorded, never overdrawn
        assert refund.points_reversed + refund.points_shortfall == 30
        redeemed = sum(isinstance(o, rewards.Redemption) for o in outcomes)
        assert s.scalar(select(func.count()).select_from(Coupon)) == redeemed
        assert s.get(Reward, reward_id).issued_count == redeemed
        assert s.scalar(select(func.count()).select_from(Purchase)) == 2 + sum(
            1 for i in range(1, THREADS) if not i % 2)
        assert ledger.find_mismatches(s) == []


def test_concurrent_check_ins_of_one_member_check_in_and_award_once(app, session, make_member, now):
    member = make_member(now=now).id
    family = add_rule(session, now, "checkin", points=5, use_tier_multiplier=False)
    session.commit()
    session.remove()

    outcomes = run_together(app, THREADS * 2, lambda i: checkin.check_in(db.session, member, now=now))

    assert all(isinstance(o, checkin.CheckInResult) for o in outcomes), outcomes
    assert sum(o.new for o in outcomes) == 1
    assert sorted(o.points for o in outcomes) == [0] * (THREADS * 2 - 1) + [5]
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.count()).select_from(CheckIn)) == 1
        assert list(s.scalars(select(RuleAward.points).where(RuleAward.family_id == family))) == [5]
        assert ledger.balance_of(s, member, "points") == 5
        assert ledger.find_mismatches(s) == []


def test_joins_completed_on_the_spot_racing_purchases_grant_each_reward_once(app, session, make_member, now):
    """Joining inserts the entry (a key-share lock on the member row) before it
    locks the member to grant the reward: with a FOR UPDATE member lock two such
    joins waited on each other's key-share lock, a deadlock."""
    member = make_member(now=now).id
    prizes = [factories.reward(session, now, stock=5, name_en=f"Prize {n}").id for n in range(THREADS // 2)]
    joined = [add_challenge(session, now, goal=1, reward_id=p, reward_points=10) for p in prizes]
    buy(session, member, now + timedelta(minutes=5), ref="ahead")  # stamped ahead by the till: counts
    session.commit()
    session.remove()

    def work(i):
        if i % 2:
            return buy(db.session, member, now + timedelta(minutes=10), ref=f"till-{i}")
        return challenges.join_challenge(db.session, challenge_id=joined[i // 2], member_id=member, now=now)

    outcomes = run_together(app, THREADS, work)

    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    with app.app_context():
        s = db.session
        granted = s.execute(select(Coupon.reward_id, func.count()).group_by(Coupon.reward_id)).all()
        assert sorted(granted) == sorted((p, 1) for p in prizes)
        entries = s.scalars(select(ChallengeEntry)).all()
        assert len(entries) == len(joined) and all(e.completed_at and e.coupon_id for e in entries)
        assert s.scalar(select(func.sum(LedgerEntry.amount)).where(
            LedgerEntry.source_type == "challenge")) == 10 * len(joined)
        assert ledger.find_mismatches(s) == []
