"""Many requests at once against one balance: each thread has its own session and
connection (`db.session` is thread-scoped), as web workers do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.threads import THREADS, run_together
from webapp.extensions import db
from webapp.models import LedgerEntry, PointLot
from webapp.services import ledger
from webapp.services.errors import InsufficientPoints

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits


def test_concurrent_spends_never_overdraw_and_leave_the_exact_balance(app, session, make_member, now):
    member = make_member(points=1_000, now=now, expires_at=now + timedelta(days=30))
    session.remove()

    outcomes = run_together(app, THREADS, lambda i: ledger.spend_points(
        db.session, member.id, 30, key=f"spend:{i}", now=now))

    succeeded = [o for o in outcomes if isinstance(o, ledger.Posting)]
    refused = [o for o in outcomes if isinstance(o, InsufficientPoints)]
    assert len(succeeded) == 33 and len(refused) == THREADS - 33, outcomes
    assert sorted(p.balance for p in succeeded) == list(range(10, 1_000, 30))  # each saw a unique step
    assert ledger.balance_of(session, member.id, "points") == 10
    assert session.scalar(select(func.sum(PointLot.remaining))) == 10
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1 + 33
    assert ledger.find_mismatches(session) == []


def test_concurrent_spends_across_many_lots_consume_them_exactly(app, session, make_member, now):
    member = make_member(now=now)
    for n in range(10):  # ten lots of 100 with different expiries
        ledger.award_points(session, member.id, 100, key=f"lot:{n}", now=now,
                            expires_at=now + timedelta(days=10 + n))
    session.commit()
    session.remove()

    outcomes = run_together(app, THREADS, lambda i: ledger.spend_points(
        db.session, member.id, 7 + i % 5, key=f"spend:{i}", now=now))

    spent = sum(-o.entry.amount for o in outcomes if isinstance(o, ledger.Posting))
    assert all(isinstance(o, ledger.Posting | InsufficientPoints) for o in outcomes), outcomes
    assert spent == sum(7 + i % 5 for i in range(THREADS))  # 450: everyone fits
    assert ledger.balance_of(session, member.id, "points") == 1_000 - spent
    remaining = session.scalars(select(PointLot.remaining).order_by(PointLot.expires_at)).all()
    # soonest expiry consumed first, whatever order the threads ran in
    assert remaining == [0, 0, 0, 0, 50, 100, 100, 100, 100, 100]
    assert ledger.find_mismatches(session) == []


def test_concurrent_replays_of_one_key_post_exactly_one_entry(app, session, make_member, now):
    member = make_member(points=1_000, now=now)
    session.remove()

    outcomes = run_together(app, 20, lambda i: ledger.spend_points(
        db.session, member.id, 30, key="till-7:receipt-42", now=now))

    assert all(isinstance(o, ledger.Posting) for o in outcomes), outcomes
    assert sum(not o.replayed for o in outcomes) == 1
    assert len({o.entry.id for o in outcomes}) == 1
    assert session.scalar(
        select(func.count()).where(LedgerEntry.idempotency_key == "till-7:receipt-42")
    ) == 1
    assert ledger.balance_of(session, member.id, "points") == 970
    assert ledger.find_mismatches(session) == []


def test_expiry_racing_spends_keeps_the_ledger_consistent(app, session, make_member, now):
    member = make_member(now=now)
    due = ledger.award_points(session, member.id, 300, key="due", now=now - timedelta(days=40),
                              expires_at=now - timedelta(days=1))
    ledger.award_points(session, member.id, 300, key="fresh", now=now,
                        expires_at=now + timedelta(days=90))
    session.commit()
    due_lot = session.scalar(select(PointLot.id).where(PointLot.entry_id == due.entry.id))
    session.remove()

    def work(i):
        if i % 5 == 0:  # several copies of the expiry job, as an at-least-once queue may run
            return ledger.expire_lot(db.session, due_lot, now)
        return ledger.spend_points(db.session, member.id, 25, key=f"spend:{i}", now=now)

    outcomes = run_together(app, 30, work)

    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientPoints)]
    spent = sum(-o.entry.amount for o in outcomes if isinstance(o, ledger.Posting))
    expired = sum(o for o in outcomes if isinstance(o, int))
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == "expire")) <= 1
    assert spent + expired + ledger.balance_of(session, member.id, "points") == 600
    assert ledger.find_mismatches(session) == []
