"""Ledger behaviour through the services, on the real database."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import LedgerEntry, PointLot
from webapp.services import ledger
from webapp.services.errors import IdempotencyConflict, InsufficientPoints


def test_award_then_spend_moves_balance_and_lots(session, make_member, now):
    member = make_member()
    ledger.award_points(session, member.id, 100, key="a1", now=now, expires_at=now + timedelta(days=5))
    ledger.award_points(session, member.id, 50, key="a2", now=now, expires_at=now + timedelta(days=2))
    posting = ledger.spend_points(session, member.id, 70, key="s1", now=now)
    session.commit()
    assert posting.balance == 80
    lots = session.scalars(select(PointLot).order_by(PointLot.id)).all()
    # soonest expiry consumed first
    assert [(lot.amount, lot.remaining) for lot in lots] == [(100, 80), (50, 0)]
    assert ledger.find_mismatches(session) == []


def test_spend_beyond_balance_is_refused_and_leaves_nothing(session, make_member, now):
    member = make_member(points=30)
    with pytest.raises(InsufficientPoints):
        ledger.spend_points(session, member.id, 31, key="s-too-much", now=now)
    session.commit()
    assert ledger.balance_of(session, member.id, "points") == 30
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_replaying_a_key_changes_nothing(session, make_member, now):
    member = make_member(points=100)
    first = ledger.spend_points(session, member.id, 40, key="same", now=now)
    again = ledger.spend_points(session, member.id, 40, key="same", now=now)
    session.commit()
    assert not first.replayed and again.replayed
    assert again.entry.id == first.entry.id
    assert ledger.balance_of(session, member.id, "points") == 60


def test_reusing_a_key_for_another_amount_is_a_conflict(session, make_member, now):
    member = make_member(points=100)
    ledger.spend_points(session, member.id, 40, key="k", now=now)
    with pytest.raises(IdempotencyConflict):
        ledger.spend_points(session, member.id, 41, key="k", now=now)


def test_expiry_takes_only_what_is_left_of_due_lots(session, make_member, now):
    member = make_member()
    ledger.award_points(session, member.id, 100, key="old", now=now - timedelta(days=400),
                        expires_at=now - timedelta(days=1))
    ledger.award_points(session, member.id, 100, key="new", now=now, expires_at=now + timedelta(days=300))
    ledger.spend_points(session, member.id, 30, key="spend", now=now - timedelta(days=2))
    session.commit()
    expired = sum(ledger.expire_lot(session, lot_id, now) for lot_id in ledger.due_lot_ids(session, now, 100))
    session.commit()
    assert expired == 70
    assert ledger.balance_of(session, member.id, "points") == 100
    assert ledger.due_lot_ids(session, now, 100) == []
    assert ledger.find_mismatches(session) == []


def test_posting_to_an_unknown_member_is_not_found(session, now):
    from webapp.services.errors import NotFound

    with pytest.raises(NotFound):
        ledger.award_points(session, 987654, 10, key="ghost", now=now)
    with pytest.raises(NotFound):
        ledger.spend_points(session, 987654, 10, key="ghost-spend", now=now)
