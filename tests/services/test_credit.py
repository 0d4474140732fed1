"""Spending store credit and refunding spends, against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.threads import THREADS, run_together
from webapp.extensions import db
from webapp.models import CreditRefund, CreditSpend, LedgerEntry, Member
from webapp.services import ledger
from webapp.services.errors import InsufficientCredit, MemberNotActive, NotFound
from webapp.services.ledger import credit


def spend(session, member_id, amount, now, external_ref=None, reason=None):
    result = credit.spend_credit(session, member_id=member_id, amount=amount, external_ref=external_ref,
                                 reason=reason, api_key_id=None, now=now)
    session.commit()
    return result


def refund(session, spend_id, now, amount=None, external_ref=None):
    result = credit.refund_credit_spend(session, spend_id=spend_id, now=now, amount=amount,
                                        external_ref=external_ref)
    session.commit()
    return result


def credit_of(session, member_id):
    session.expire_all()
    return session.get(Member, member_id).credit_balance


def test_a_spend_takes_credit_through_one_keyed_ledger_entry(session, make_member, now):
    member = make_member(credit=50_000, now=now)
    spent = spend(session, member.id, 20_000, now, external_ref="R-1", reason="coffee")
    assert (spent.amount, spent.refunded_amount, spent.external_ref, spent.reason) == (20_000, 0, "R-1", "coffee")
    assert credit_of(session, member.id) == 30_000
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "spend"))
    assert (entry.currency, entry.amount, entry.idempotency_key) == ("credit", -20_000, f"credit-spend:{spent.id}")
    assert (entry.source_type, entry.source_id) == ("credit_spend", str(spent.id))
    assert ledger.find_mismatches(session) == []


def test_spending_more_than_the_balance_is_refused_and_saves_nothing(session, make_member, now):
    member = make_member(credit=1_000, now=now)
    with pytest.raises(InsufficientCredit) as caught:
        credit.spend_credit(session, member_id=member.id, amount=1_001, external_ref="R-2", reason=None,
                            api_key_id=None, now=now)
    assert (caught.value.status, caught.value.code) == (409, "insufficient_credit")
    session.rollback()
    assert credit_of(session, member.id) == 1_000
    assert session.scalar(select(func.count()).select_from(CreditSpend)) == 0
    # the external reference was not used up by the refused spend
    assert spend(session, member.id, 1_000, now, external_ref="R-2").amount == 1_000


def test_an_external_reference_is_spent_once(session, make_member, now):
    member = make_member(credit=10_000, now=now)
    spend(session, member.id, 100, now, external_ref="R-3")
    with pytest.raises(credit.DuplicateCreditSpend) as caught:
        credit.spend_credit(session, member_id=member.id, amount=100, external_ref="R-3", reason=None,
                            api_key_id=None, now=now)
    assert caught.value.status == 409
    session.rollback()
    assert credit_of(session, member.id) == 9_900


def test_unknown_and_inactive_members_cannot_spend(session, make_member, now):
    with pytest.raises(NotFound):
        credit.spend_credit(session, member_id=987_654, amount=1, external_ref=None, reason=None,
                            api_key_id=None, now=now)
    session.rollback()
    member = make_member(credit=500, now=now)
    session.get(Member, member.id).status = "closed"
    session.commit()
    with pytest.raises(MemberNotActive):
        credit.spend_credit(session, member_id=member.id, amount=1, external_ref=None, reason=None,
                            api_key_id=None, now=now)


@pytest.mark.parametrize("amount", [0, -5, True, 1.5])
def test_a_spend_needs_a_positive_whole_amount(session, make_member, now, amount):
    member = make_member(credit=500, now=now)
    with pytest.raises(ValueError):
        credit.spend_credit(session, member_id=member.id, amount=amount, external_ref=None, reason=None,
                            api_key_id=None, now=now)


def test_refunds_give_back_at_most_what_is_left_of_the_spend(session, make_member, now):
    member = make_member(credit=10_000, now=now)
    spent = spend(session, member.id, 6_000, now)
    first = refund(session, spent.id, now + timedelta(minutes=1), amount=2_500, external_ref="RF-1")
    assert (first.amount, first.spend_id, first.external_ref) == (2_500, spent.id, "RF-1")
    with pytest.raises(credit.CreditRefundTooLarge) as caught:
        credit.refund_credit_spend(session, spend_id=spent.id, now=now, amount=3_501)
    assert (caught.value.status, caught.value.details) == (422, {"refundable": 3_500})
    session.rollback()
    rest = refund(session, spent.id, now + timedelta(minutes=2))  # everything left
    assert rest.amount == 3_500
    assert credit_of(session, member.id) == 10_000
    assert session.get(CreditSpend, spent.id).refunded_amount == 6_000
    with pytest.raises(credit.CreditRefundTooLarge):
        credit.refund_credit_spend(session, spend_id=spent.id, now=now)
    session.rollback()
    keys = session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.kind == "refund")
                           .order_by(LedgerEntry.id)).all()
    assert keys == [f"credit-refund:{first.id}", f"credit-refund:{rest.id}"]
    assert ledger.find_mismatches(session) == []


def test_a_refund_reference_is_used_once_per_spend(session, make_member, now):
    member = make_member(credit=10_000, now=now)
    one, two = spend(session, member.id, 1_000, now), spend(session, member.id, 1_000, now)
    refund(session, one.id, now, amount=100, external_ref="RF")
    with pytest.raises(credit.DuplicateCreditRefund):
        credit.refund_credit_spend(session, spend_id=one.id, now=now, amount=100, external_ref="RF")
    session.rollback()
    assert refund(session, two.id, now, amount=100, external_ref="RF").amount == 100  # another spend


def test_refunding_an_unknown_spend_is_not_found(session, now):
    with pytest.raises(NotFound):
        credit.refund_credit_spend(session, spend_id=424_242, now=now)


@pytest.mark.real_commits
def test_concurrent_spends_never_overdraw_credit(app, session, make_member, now):
    member = make_member(credit=100_000, now=now)
    session.remove()

    outcomes = run_together(app, THREADS, lambda i: credit.spend_credit(
        db.session, member_id=member.id, amount=7_000, external_ref=f"till-{i}", reason=None,
        api_key_id=None, now=now))

    spent = [o for o in outcomes if isinstance(o, CreditSpend)]
    refused = [o for o in outcomes if isinstance(o, InsufficientCredit)]
    assert len(spent) == 14 and len(refused) == THREADS - 14, outcomes
    assert credit_of(session, member.id) == 100_000 - 14 * 7_000
    assert session.scalar(select(func.count()).select_from(CreditSpend)) == 14
    assert ledger.find_mismatches(session) == []


@pytest.mark.real_commits
def test_concurrent_refunds_never_give_back_more_than_was_spent(app, session, make_member, now):
    member = make_member(credit=10_000, now=now)
    spent = spend(session, member.id, 10_000, now)
    session.remove()

    outcomes = run_together(app, 20, lambda i: credit.refund_credit_spend(
        db.session, spend_id=spent.id, now=now, amount=700))

    refunds = [o for o in outcomes if isinstance(o, CreditRefund)]
    assert len(refunds) == 14, outcomes  # 14 × 700 = 9,800; a 15th would pass 10,000
    assert all(isinstance(o, CreditRefund | credit.CreditRefundTooLarge) for o in outcomes)
    assert credit_of(session, member.id) == 9_800
    assert session.get(CreditSpend, spent.id).refunded_amount == 9_800
    assert ledger.find_mismatches(session) == []
