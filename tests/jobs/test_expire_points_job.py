"""The nightly points-expiry job, enqueued on the real test Redis and run by a
real RQ worker in burst mode. Lots are made due by earning them in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.job import JobStatus
from sqlalchemy import func, select

from webapp.jobs import get_queue
from webapp.jobs.points import expire_points
from webapp.models import LedgerEntry, PointLot
from webapp.services import ledger


def enqueue_expiry(app):
    with app.app_context():
        return get_queue("default").enqueue(expire_points)


def test_expiry_job_expires_due_lots_and_a_second_run_changes_nothing(app, session, make_member,
                                                                      run_worker):
    real_now = datetime.now(UTC)
    past = real_now - timedelta(days=400)
    alice, bob = make_member(), make_member()
    # alice: one lot due (partly spent), one lot not due yet, one that never expires
    ledger.award_points(session, alice.id, 100, key="a-old", now=past, expires_at=real_now - timedelta(days=1))
    ledger.award_points(session, alice.id, 40, key="a-new", now=past, expires_at=real_now + timedelta(days=30))
    ledger.award_points(session, alice.id, 5, key="a-forever", now=past)
    ledger.spend_points(session, alice.id, 30, key="a-spend", now=past + timedelta(days=1))
    # bob: two due lots, one fully spent already
    ledger.award_points(session, bob.id, 50, key="b-1", now=past, expires_at=real_now - timedelta(hours=1))
    ledger.award_points(session, bob.id, 60, key="b-2", now=past, expires_at=real_now - timedelta(days=3))
    ledger.spend_points(session, bob.id, 60, key="b-spend", now=past + timedelta(days=1))
    session.commit()

    job = enqueue_expiry(app)
    run_worker()

    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 70 + 50
    expiries = session.execute(
        select(LedgerEntry.member_id, LedgerEntry.amount).where(LedgerEntry.kind == "expire")
        .order_by(LedgerEntry.member_id)
    ).all()
    assert [tuple(e) for e in expiries] == [(alice.id, -70), (bob.id, -50)]
    assert ledger.balance_of(session, alice.id, "points") == 45  # 40 not due + 5 forever
    assert ledger.balance_of(session, bob.id, "points") == 0
    open_lots = session.execute(
        select(PointLot.amount, PointLot.remaining).where(PointLot.remaining > 0).order_by(PointLot.id)
    ).all()
    assert [tuple(lot) for lot in open_lots] == [(40, 40), (5, 5)]
    assert ledger.find_mismatches(session) == []
    session.rollback()
    entries_before = session.scalar(select(func.count()).select_from(LedgerEntry))

    again = enqueue_expiry(app)
    run_worker()

    again.refresh()
    assert again.get_status() == JobStatus.FINISHED
    assert again.return_value() == 0
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries_before
    assert ledger.balance_of(session, alice.id, "points") == 45
    assert ledger.find_mismatches(session) == []


def test_expiry_job_with_nothing_due_posts_nothing(app, session, make_member, run_worker):
    member = make_member(points=80, expires_at=datetime.now(UTC) + timedelta(days=10))

    job = enqueue_expiry(app)
    run_worker()

    job.refresh()
    assert job.return_value() == 0
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == "expire")) == 0
    assert ledger.balance_of(session, member.id, "points") == 80


def test_expiry_job_works_through_more_lots_than_one_batch(app, session, make_member, run_worker):
    from webapp.jobs.points import BATCH

    real_now = datetime.now(UTC)
    members = [make_member() for _ in range(3)]
    for n in range(BATCH + 2):
        ledger.award_points(session, members[n % 3].id, 1 + n % 7, key=f"lot-{n}",
                            now=real_now - timedelta(days=90),
                            expires_at=real_now - timedelta(minutes=1 + n % 50))
    session.commit()

    job = enqueue_expiry(app)
    run_worker()

    job.refresh()
    assert job.return_value() == sum(1 + n % 7 for n in range(BATCH + 2))
    assert all(ledger.balance_of(session, m.id, "points") == 0 for m in members)
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == "expire")) == BATCH + 2
    assert ledger.find_mismatches(session) == []
