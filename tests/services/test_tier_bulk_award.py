"""`ledger.award_points_bulk`: set-wise awards that are idempotent by key and
keep the ledger doctor-clean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import LedgerEntry, Member, PointLot
from webapp.services import ledger
from webapp.services.errors import IdempotencyConflict


def award(session, rows, now):
    return ledger.award_points_bulk(session, rows, kind="earn", now=now,
                                    expires_at=now + timedelta(days=30), source_type="test")


def test_bulk_awards_post_entries_lots_and_balances_once(session, make_member, now):
    alice, bob = make_member(points=10), make_member()
    rows = [(alice.id, 5, "bulk:a:1"), (alice.id, 7, "bulk:a:2"), (bob.id, 11, "bulk:b:1")]
    loaded = session.get(Member, alice.id)
    assert loaded.points_balance == 10
    inserted = award(session, rows, now)
    session.commit()
    assert sorted((a.member_id, a.points, a.key) for a in inserted) == sorted(rows)
    assert loaded.points_balance == 22  # the loaded member sees the new balance
    assert ledger.balance_of(session, bob.id, "points") == 11
    lots = session.execute(select(PointLot.amount, PointLot.remaining, PointLot.expires_at)
                           .where(PointLot.member_id == bob.id)).all()
    assert [tuple(lot) for lot in lots] == [(11, 11, now + timedelta(days=30))]
    assert ledger.find_mismatches(session) == []

    assert award(session, rows, now) == []
    session.commit()
    assert ledger.balance_of(session, alice.id, "points") == 22
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 4
    assert ledger.find_mismatches(session) == []


def test_a_rerun_with_new_rows_awards_only_the_new_ones(session, make_member, now):
    members = [make_member() for _ in range(3)]
    award(session, [(m.id, 3, f"day1:{m.id}") for m in members[:2]], now)
    added = award(session, [(m.id, 3, f"day1:{m.id}") for m in members], now)
    session.commit()
    assert [(a.member_id, a.points) for a in added] == [(members[2].id, 3)]
    assert [ledger.balance_of(session, m.id, "points") for m in members] == [3, 3, 3]


def test_more_rows_than_one_chunk(session, make_member, now):
    member = make_member()
    rows = [(member.id, 1 + n % 3, f"many:{n}") for n in range(ledger.BULK_CHUNK + 3)]
    assert len(award(session, rows, now)) == len(rows)
    session.commit()
    assert ledger.balance_of(session, member.id, "points") == sum(p for _, p, _ in rows)
    assert ledger.find_mismatches(session) == []


def test_a_key_reused_for_another_amount_is_a_conflict(session, make_member, now):
    member = make_member()
    award(session, [(member.id, 5, "k")], now)
    with pytest.raises(IdempotencyConflict):
        award(session, [(member.id, 6, "k")], now)
    with pytest.raises(IdempotencyConflict):
        award(session, [(member.id, 1, "x"), (member.id, 2, "x")], now)


@pytest.mark.parametrize("points", [0, -3, True, 2.5])
def test_only_positive_whole_points(session, make_member, now, points):
    member = make_member()
    with pytest.raises(ValueError):
        award(session, [(member.id, points, "bad")], now)
