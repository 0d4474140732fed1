"""Rewards and coupons: eligibility, limits, stock, partner codes, the credit
kind, cancellation refunds, expiry, the till's use and grants without points."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.models import AuditLog, Coupon, LedgerEntry, Member, Reward, VoucherCode
from webapp.services import ledger, tiers
from webapp.services.errors import IdempotencyConflict, InsufficientPoints
from webapp.services.members import audit
from webapp.services.offers import coupons, rewards
from webapp.services.tiers.rules import Level, Program

STAFF = audit.Actor("staff:test")
PROGRAM = Program(metric="points_earned", window_kind="rolling", window_days=365, levels=(
    Level(0, "base", "پایه", "Base", 0), Level(1, "gold", "طلایی", "Gold", 1_000)))


def redeem(session, m, r, now, key="k1"):
    return rewards.redeem_reward(session, member_id=m.id, reward_id=r.id, request_key=key, now=now)


def points(session, m):
    return ledger.balance_of(session, m.id, "points")


def test_redeeming_spends_points_takes_stock_and_issues_a_readable_unguessable_code(session, now):
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now, stock=3, coupon_valid_days=30)
    done = redeem(session, m, r, now)
    c = done.coupon
    assert not done.replayed and c.status == "issued" and c.points_spent == 100
    assert points(session, m) == 400
    assert session.get(Reward, r.id).stock == 2 and session.get(Reward, r.id).issued_count == 1
    assert coupons.normalise(c.code) == c.code and len(c.code.replace("-", "")) == 15
    assert coupons.normalise(c.code.lower().replace("-", " ")) == c.code
    assert c.expires_at == now + timedelta(days=30)
    spend = session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == f"coupon:{c.id}:spend"))
    assert spend.amount == -100 and spend.source_type == "coupon"
    assert not ledger.find_mismatches(session)


def test_codes_differ_and_carry_at_least_sixty_bits():
    import math

    assert len(coupons.ALPHABET) ** coupons.LENGTH >= 2 ** 60
    assert math.log2(len(coupons.ALPHABET)) * coupons.LENGTH > 70
    assert not set("01ILOUV") & set(coupons.ALPHABET)
    assert len({coupons.new_code() for _ in range(2000)}) == 2000


def test_the_same_request_key_issues_one_coupon(session, now):
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now)
    first, again = redeem(session, m, r, now, "same"), redeem(session, m, r, now, "same")
    assert again.replayed and again.coupon.id == first.coupon.id
    assert points(session, m) == 400
    other = factories.reward(session, now)
    with pytest.raises(IdempotencyConflict):
        redeem(session, m, other, now, "same")


def test_not_enough_points_changes_nothing(session, now):
    m, r = factories.member(session, now=now, points=99), factories.reward(session, now, stock=1)
    with pytest.raises(InsufficientPoints):
        redeem(session, m, r, now)
    assert session.get(Reward, r.id).stock == 1
    assert session.scalar(select(func.count()).select_from(Coupon)) == 0
    assert points(session, m) == 99


def test_stock_runs_out_and_never_goes_below_zero(session, now):
    m, r = factories.member(session, now=now, points=1_000), factories.reward(session, now, stock=2)
    redeem(session, m, r, now, "a"), redeem(session, m, r, now, "b")
    with pytest.raises(rewards.OutOfStock):
        redeem(session, m, r, now, "c")
    assert session.get(Reward, r.id).stock == 0 and points(session, m) == 800


def test_per_member_limit_counts_held_coupons_not_cancelled_ones(session, now):
    m, r = factories.member(session, now=now, points=1_000), factories.reward(session, now, per_member_limit=1)
    first = redeem(session, m, r, now, "a").coupon
    with pytest.raises(rewards.RewardLimitReached):
        redeem(session, m, r, now, "b")
    rewards.cancel_coupon(session, first.id, actor=STAFF, now=now)
    assert redeem(session, m, r, now, "c").coupon.status == "issued"


@pytest.mark.parametrize("change", [
    {"status": "draft"}, {"status": "archived"}, {"starts_at_days": 1}, {"ends_at_days": 0},
])
def test_rewards_outside_their_window_or_not_active_cannot_be_redeemed(session, now, change):
    kw = {"status": change.get("status", "active")}
    if "starts_at_days" in change:
        kw["starts_at"] = now + timedelta(days=1)
    if "ends_at_days" in change:
        kw["ends_at"] = now
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now, **kw)
    with pytest.raises(rewards.RewardUnavailable):
        redeem(session, m, r, now)
    assert rewards.member_catalog(session, m, now).empty


def test_a_tier_locked_reward_opens_when_the_member_reaches_the_tier(session, now):
    tiers.save_program(session, PROGRAM, actor=STAFF, now=now)
    gold = tiers.load_program(session).levels[1]
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now, min_tier_id=gold.id)
    catalog = rewards.member_catalog(session, m, now)
    assert [i.reward.id for i in catalog.locked] == [r.id] and catalog.locked[0].unlock_level.code == "gold"
    with pytest.raises(rewards.RewardLocked):
        redeem(session, m, r, now)
    session.get(Member, m.id).tier_id = gold.id
    session.flush()
    assert [i.reward.id for i in rewards.member_catalog(session, m, now).afford] == [r.id]
    assert redeem(session, m, r, now).coupon.status == "issued"


def test_a_segment_reward_is_shown_only_to_members_in_the_segment(session, now):
    from webapp.models import Segment

    seg = Segment(name="Rich", conditions=[{"field": "points", "op": "gte", "value": 1_000}])
    session.add(seg)
    session.flush()
    poor, rich = factories.member(session, now=now, points=500), factories.member(session, now=now, points=2_000)
    r = factories.reward(session, now, segment_id=seg.id)
    assert rewards.member_catalog(session, poor, now).empty
    with pytest.raises(rewards.RewardLocked):
        redeem(session, poor, r, now)
    assert [i.reward.id for i in rewards.member_catalog(session, rich, now).afford] == [r.id]
    assert redeem(session, rich, r, now).coupon.status == "issued"


def test_catalog_groups_by_what_the_member_can_afford_and_how_far_away(session, now):
    m = factories.member(session, now=now, points=300)
    cheap, near, far = (factories.reward(session, now, cost_points=c) for c in (200, 400, 1_200))
    sold_out = factories.reward(session, now, cost_points=100, stock=0)
    catalog = rewards.member_catalog(session, m, now)
    assert [i.reward.id for i in catalog.afford] == [sold_out.id, cheap.id]
    assert catalog.afford[0].blocked == "out_of_stock" and not catalog.afford[0].redeemable
    assert [(i.reward.id, i.points_needed, i.percent) for i in catalog.away] == [(near.id, 100, 75),
                                                                               (far.id, 900, 25)]


def test_partner_vouchers_hand_out_each_uploaded_code_exactly_once(session, now):
    m, r = factories.member(session, now=now, points=1_000), factories.reward(session, now, kind="partner_voucher", value=0, cost_points=10)
    codes = rewards.parse_voucher_codes("code\nAAA-1\r\nBBB-2,extra\n\nAAA-1\n")
    assert codes == ["AAA-1", "BBB-2"]
    upload = rewards.add_voucher_codes(session, r.id, codes, actor=STAFF, now=now)
    assert (upload.added, upload.duplicates, upload.free) == (2, 0, 2)
    again = rewards.add_voucher_codes(session, r.id, ["BBB-2", "CCC-3"], actor=STAFF, now=now)
    assert (again.added, again.duplicates, again.free) == (1, 1, 3)
    assert session.get(Reward, r.id).stock == 3
    got = [redeem(session, m, r, now, f"k{i}").coupon.partner_code for i in range(3)]
    assert got == ["AAA-1", "BBB-2", "CCC-3"]
    with pytest.raises(rewards.OutOfStock):
        redeem(session, m, r, now, "k4")
    claimed = session.scalars(select(VoucherCode.coupon_id).where(VoucherCode.reward_id == r.id))
    assert None not in set(claimed)


def test_store_credit_is_granted_at_once_and_the_coupon_recorded_used(session, now):
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now, kind="credit", value=20_000)
    c = redeem(session, m, r, now).coupon
    assert c.status == "used" and c.used_at == now
    assert ledger.balance_of(session, m.id, "credit") == 20_000 and points(session, m) == 400
    with pytest.raises(rewards.CouponNotCancellable):
        rewards.cancel_coupon(session, c.id, actor=STAFF, now=now)


def test_cancelling_refunds_the_points_returns_the_stock_and_is_audited(session, now):
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now, stock=1)
    c = redeem(session, m, r, now).coupon
    rewards.cancel_coupon(session, c.id, actor=STAFF, now=now, reason="asked by phone")
    assert c.status == "cancelled" and points(session, m) == 500
    assert session.get(Reward, r.id).stock == 1
    refund = session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == f"coupon:{c.id}:cancel"))
    assert refund.amount == 100 and refund.kind == "refund"
    log = session.scalar(select(AuditLog).where(AuditLog.action == "coupon.cancel"))
    assert log.object_id == str(c.id) and log.reason == "asked by phone"
    with pytest.raises(rewards.CouponNotCancellable):
        rewards.cancel_coupon(session, c.id, actor=STAFF, now=now)
    assert not ledger.find_mismatches(session)


def test_a_used_coupon_cannot_be_used_again_or_cancelled(session, now):
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now)
    c = redeem(session, m, r, now).coupon
    used = rewards.use_coupon(session, c.code.lower(), now=now, reference="till-7")
    assert used.status == "used" and used.used_ref == "till-7"
    with pytest.raises(rewards.CouponNotUsable) as caught:
        rewards.use_coupon(session, c.code, now=now)
    assert caught.value.code == "coupon_used"
    with pytest.raises(rewards.CouponNotCancellable):
        rewards.cancel_coupon(session, c.id, actor=STAFF, now=now)


def test_expiry_marks_only_issued_coupons_past_their_date_and_runs_twice_safely(session, now):
    m = factories.member(session, now=now, points=1_000)
    r = factories.reward(session, now, coupon_valid_days=1)
    old, fresh = redeem(session, m, r, now - timedelta(days=2), "a").coupon, redeem(session, m, r, now, "b").coupon
    used = redeem(session, m, r, now - timedelta(days=2), "c").coupon
    rewards.use_coupon(session, used.code, now=now - timedelta(days=2))
    assert rewards.effective_status(old, now) == "expired"  # before the job: the till refuses it
    assert rewards.expire_coupons(session, now) == 1
    assert rewards.expire_coupons(session, now) == 0
    session.expire_all()
    assert (old.status, fresh.status, used.status) == ("expired", "issued", "used")
    with pytest.raises(rewards.CouponNotUsable) as caught:
        rewards.use_coupon(session, old.code, now=now)
    assert caught.value.code == "coupon_expired"


def test_grant_reward_gives_a_coupon_without_points_once_per_key_and_obeys_stock(session, now):
    m, r = factories.member(session, now=now, points=0), factories.reward(session, now, stock=1)
    c = rewards.grant_reward(session, member_id=m.id, reward_id=r.id, key="challenge:1:member", now=now)
    assert c.points_spent == 0 and c.status == "issued"
    assert rewards.grant_reward(session, member_id=m.id, reward_id=r.id, key="challenge:1:member",
                                now=now).id == c.id
    with pytest.raises(rewards.OutOfStock):
        rewards.grant_reward(session, member_id=m.id, reward_id=r.id, key="challenge:2:member", now=now)
    rewards.cancel_coupon(session, c.id, actor=STAFF, now=now)  # nothing to refund, stock back
    assert session.get(Reward, r.id).stock == 1 and points(session, m) == 0


def test_invalid_rewards_are_refused_field_by_field(session, now):
    with pytest.raises(rewards.RewardInvalid) as caught:
        factories.reward(session, now, kind="coupon_percent", value=10_001, cost_points=-1)
    assert {"value", "cost_points"} <= set(caught.value.problems)
    with pytest.raises(rewards.RewardInvalid) as caught:
        factories.reward(session, now, kind="free_product", product_sku=" ")
    assert "product_sku" in caught.value.problems


def test_a_rewards_kind_is_fixed_once_coupons_exist_and_edits_are_audited(session, now):
    m, r = factories.member(session, now=now, points=500), factories.reward(session, now)
    redeem(session, m, r, now)
    data = rewards.RewardData(kind="credit", name_fa="x", name_en="x", cost_points=1, value=1, status="active")
    with pytest.raises(rewards.RewardInvalid):
        rewards.save_reward(session, data, actor=STAFF, now=now, reward_id=r.id)
    rewards.set_status(session, r.id, "archived", actor=STAFF, now=now)
    actions = set(session.scalars(select(AuditLog.action).where(AuditLog.object_type == "reward")))
    assert {"reward.create", "reward.archived"} <= actions
