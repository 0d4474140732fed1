"""Edge cases of the ledger and of refunds, on the real database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from webapp.models import LedgerEntry, PointLot, PurchaseRefund
from webapp.services import ledger
from webapp.services.errors import IdempotencyConflict, InsufficientCredit, NotFound
from webapp.services.ledger.purchases import RefundTooLarge, record_purchase, refund_purchase
from webapp.services.settings import EarnSettings

ONE_PER_10K = EarnSettings(earn_points=1, earn_per_amount=10_000, points_expiry_days=0)


def buy(session, member_id, amount, now, ref):
    purchase, _ = record_purchase(session, member_id=member_id, amount=amount, currency="IRR",
                                  occurred_at=now, now=now, external_ref=ref, settings=ONE_PER_10K)
    session.commit()
    return purchase


@pytest.mark.parametrize("amount", [0, 1.0, Decimal(5), True, "5", None])
def test_only_non_zero_integers_can_be_posted(session, make_member, now, amount):
    member = make_member(points=10)
    with pytest.raises(ValueError):
        ledger.post(session, member_id=member.id, currency="points", amount=amount, kind="x",
                    key="k", now=now)


def test_an_unknown_currency_is_refused(session, make_member, now):
    member = make_member()
    with pytest.raises(ValueError):
        ledger.post(session, member_id=member.id, currency="gold", amount=5, kind="x", key="k", now=now)


def test_posting_for_a_missing_member_is_not_found_and_leaves_nothing(session, now):
    with pytest.raises(NotFound):
        ledger.award_points(session, 999_999, 10, key="ghost", now=now)
    session.rollback()
    assert session.scalar(select(LedgerEntry.id)) is None


def test_a_key_used_by_one_member_cannot_be_replayed_for_another(session, make_member, now):
    alice, bob = make_member(points=100), make_member(points=100)
    ledger.spend_points(session, alice.id, 10, key="receipt-1", now=now)
    with pytest.raises(IdempotencyConflict):
        ledger.spend_points(session, bob.id, 10, key="receipt-1", now=now)


def test_credit_is_separate_from_points_and_never_goes_negative(session, make_member, now):
    member = make_member(points=500, credit=1_000)
    with pytest.raises(InsufficientCredit):
        ledger.spend_credit(session, member.id, 1_001, key="too-much", now=now)
    posting = ledger.spend_credit(session, member.id, 1_000, key="all", now=now)
    session.commit()
    assert posting.balance == 0
    assert ledger.balance_of(session, member.id, "points") == 500
    assert ledger.find_mismatches(session) == []


def test_never_expiring_points_are_spent_last(session, make_member, now):
    member = make_member()
    ledger.award_points(session, member.id, 50, key="forever", now=now)
    ledger.award_points(session, member.id, 50, key="late", now=now, expires_at=now + timedelta(days=900))
    ledger.award_points(session, member.id, 50, key="soon", now=now, expires_at=now + timedelta(days=3))
    ledger.spend_points(session, member.id, 120, key="spend", now=now)
    session.commit()
    remaining = dict(session.execute(
        select(LedgerEntry.idempotency_key, PointLot.remaining).join(PointLot, PointLot.entry_id == LedgerEntry.id)
    ).all())
    assert remaining == {"soon": 0, "late": 0, "forever": 30}


def test_expiring_a_lot_twice_expires_it_once(session, make_member, now):
    member = make_member()
    ledger.award_points(session, member.id, 40, key="due", now=now - timedelta(days=10),
                        expires_at=now - timedelta(days=1))
    session.commit()
    (lot_id,) = ledger.due_lot_ids(session, now, 10)
    assert ledger.expire_lot(session, lot_id, now) == 40
    assert ledger.expire_lot(session, lot_id, now) == 0
    session.commit()
    assert ledger.balance_of(session, member.id, "points") == 0


def test_a_lot_not_yet_due_is_not_expired_even_when_asked(session, make_member, now):
    member = make_member()
    ledger.award_points(session, member.id, 40, key="later", now=now, expires_at=now + timedelta(days=1))
    session.commit()
    lot_id = session.scalar(select(PointLot.id))
    assert ledger.expire_lot(session, lot_id, now) == 0
    assert ledger.balance_of(session, member.id, "points") == 40


def test_refund_after_the_points_were_spent_records_the_shortfall(session, make_member, now):
    member = make_member()
    purchase = buy(session, member.id, 1_000_000, now, "r-1")  # 100 points
    ledger.spend_points(session, member.id, 80, key="spent", now=now)
    session.commit()

    refund = refund_purchase(session, purchase_id=purchase.id, now=now)
    session.commit()

    assert (refund.points_reversed, refund.points_shortfall) == (20, 80)
    assert ledger.balance_of(session, member.id, "points") == 0
    assert ledger.find_mismatches(session) == []


def test_partial_refunds_take_back_exactly_the_points_earned_in_total(session, make_member, now):
    member = make_member()
    purchase = buy(session, member.id, 1_234_567, now, "r-2")  # 123 points
    for amount in (333_333, 1, 400_000, 501_233):
        refund_purchase(session, purchase_id=purchase.id, now=now, amount=amount)
        session.commit()
    refunds = session.scalars(select(PurchaseRefund)).all()
    assert sum(r.points_reversed + r.points_shortfall for r in refunds) == 123
    assert ledger.balance_of(session, member.id, "points") == 0
    with pytest.raises(RefundTooLarge):
        refund_purchase(session, purchase_id=purchase.id, now=now, amount=1)


def test_doctor_sees_lots_drifting_from_the_balance(session, make_member, now):
    member = make_member(points=100)
    assert ledger.find_mismatches(session) == []
    session.execute(text("UPDATE point_lot SET remaining = remaining - 1 WHERE member_id = :m"),
                    {"m": member.id})
    session.commit()
    (mismatch,) = ledger.find_mismatches(session)
    assert (mismatch.member_id, mismatch.currency, mismatch.balance, mismatch.entries_sum,
            mismatch.lots_sum) == (member.id, "points", 100, 100, 99)
