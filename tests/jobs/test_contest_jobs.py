"""The contest finalise job with a real RQ worker, and the Redis leaderboard:
its ranks equal `rank_entries` on the same data (ties included), and it is
rebuilt the same after FLUSHDB, by the CLI and on read."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from games.leaderboard import Entry, rank_entries
from tests import factories
from tests.factories import make_quiz
from webapp.extensions import db
from webapp.models import Contest, ContestEntry, Coupon, InboxMessage, LedgerEntry, Member
from webapp.services import ledger
from webapp.services.play import contest_play, leaderboards, registry
from webapp.services.play import contests as service


def seed_board(app, count=60, seed=7):
    """Finished attempts with many ties (few distinct scores, times and seconds)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with app.app_context():
        contest = make_quiz(db.session, now, questions=2, participation=5, prizes=[
            service.Prize(1, 1, "points", 1000), service.Prize(2, 3, "reward", reward_id=factories.reward(
                db.session, now, kind="raffle_tickets", name_fa="بلیت", name_en="Tickets", cost_points=0, value=3,
                stock=2).id)])
        members = []
        for i in range(count):
            member = Member(email=f"board{i}@example.com", display_name=f"P{i}", referral_code=f"RC{seed}{i:05d}",
                            session_token=f"tok-{seed}-{i}", created_at=now)
            db.session.add(member)
            members.append(member)
        db.session.flush()
        for member in members:
            db.session.add(ContestEntry(
                contest_id=contest.id, member_id=member.id, started_at=now, finished_at=now,
                score=rng.choice([0, 150, 300]), elapsed_ms=rng.choice([1000, 2000]),
                tie_time=rng.choice([10, 11])))
        db.session.commit()
        return contest.id


def redis_ranks(app, contest_id):
    with app.app_context():
        r = app.extensions["vafa_redis"]
        contest = db.session.get(Contest, contest_id)
        leaderboards.board(db.session, r, contest, None)  # rebuilds on read when the key is missing
        ids = db.session.scalars(select(ContestEntry.member_id).where(ContestEntry.contest_id == contest_id))
        return {m: leaderboards.rank_of(r, contest_id, m) for m in ids}


def engine_ranks(app, contest_id):
    with app.app_context():
        rows = db.session.execute(select(ContestEntry.member_id, ContestEntry.score, ContestEntry.elapsed_ms,
                                         ContestEntry.tie_time).where(ContestEntry.contest_id == contest_id)).all()
        return {s.entry.member_id: s.rank for s in rank_entries(Entry(*r) for r in rows)}


def test_redis_ranks_equal_rank_entries_with_ties_and_survive_a_flush(app):
    cid = seed_board(app)
    with app.app_context():
        contest = db.session.get(Contest, cid)
        layout = registry.get_type("quiz").layout(db.session, contest)
        for m, s, e, t in db.session.execute(select(ContestEntry.member_id, ContestEntry.score,
                                                    ContestEntry.elapsed_ms, ContestEntry.tie_time)):
            leaderboards.record_attempt(app.extensions["vafa_redis"], cid, layout, Entry(m, s, e, t))
    expected = engine_ranks(app, cid)
    assert len(set(expected.values())) < len(expected)  # the data has ties
    assert redis_ranks(app, cid) == expected
    app.extensions["vafa_redis"].flushdb()
    assert redis_ranks(app, cid) == expected  # rebuilt on read
    app.extensions["vafa_redis"].flushdb()
    result = app.test_cli_runner().invoke(args=["games", "rebuild-leaderboards"])
    assert result.exit_code == 0 and "1 leaderboards rebuilt" in result.output
    assert app.extensions["vafa_redis"].zcard(leaderboards.board_key(cid)) == len(expected)
    assert redis_ranks(app, cid) == expected


def test_the_board_shows_everyone_tied_at_the_cut(app):
    cid = seed_board(app, count=30)
    with app.app_context():
        board = leaderboards.board(db.session, app.extensions["vafa_redis"], db.session.get(Contest, cid), None)
    expected = engine_ranks(app, cid)
    assert [r.rank for r in board.top] == sorted(r for r in expected.values() if r <= 10)


def test_finalise_twice_with_a_real_worker_awards_once(app, run_worker):
    from webapp.jobs.contests import enqueue_finalise, finalise_due_contests

    cid = seed_board(app)
    with app.app_context():
        db.session.execute(update(Contest).where(Contest.id == cid)
                           .values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
        finalise_due_contests()
    run_worker()
    with app.app_context():
        first = dict(db.session.execute(select(ContestEntry.member_id, ContestEntry.final_rank)).all())
        entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
        coupons = db.session.scalar(select(func.count()).select_from(Coupon))
        messages = db.session.scalar(select(func.count()).select_from(InboxMessage))
        # a second run (a retry, or the cron enqueuing it again) changes nothing
        db.session.execute(update(Contest).where(Contest.id == cid).values(status="published"))
        db.session.commit()
        enqueue_finalise(cid)
    run_worker()
    with app.app_context():
        assert dict(db.session.execute(select(ContestEntry.member_id, ContestEntry.final_rank)).all()) == first
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
        assert db.session.scalar(select(func.count()).select_from(Coupon)) == coupons
        assert db.session.scalar(select(func.count()).select_from(InboxMessage)) == messages == 60
        assert first == engine_ranks(app, cid)
        played = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                   .where(LedgerEntry.idempotency_key.like(f"contest:{cid}:played:%")))
        assert played == 60
        winners = [m for m, r in first.items() if r == 1]
        prize_keys = set(db.session.scalars(select(LedgerEntry.idempotency_key)
                                            .where(LedgerEntry.idempotency_key.like(f"contest:{cid}:prize:%"))))
        assert prize_keys == {f"contest:{cid}:prize:{m}" for m in winners}  # everyone tied 1st gets the prize
        assert ledger.find_mismatches(db.session) == []
        # the catalog reward for ranks 2-3 ran out of stock after 2: the rest are recorded as not issued
        assert coupons <= 2


def test_a_quiz_still_open_is_not_finalised(app, run_worker, make_member):
    from webapp.jobs.contests import finalise_due_contests

    with app.app_context():
        contest = make_quiz(db.session, datetime.now(UTC))
        db.session.commit()
        assert finalise_due_contests() == {"enqueued": []}
        assert contest_play.playable(db.session, contest.id).status == "published"
