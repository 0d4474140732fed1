"""Referral jobs with real Redis and a real RQ worker in burst mode: the board
prize of the club month just ended is paid once (ties at the cut all win),
even when the job runs twice or the board changes afterwards, and not at all
weeks later; pending referrals past their window expire. The clock is fixed
(time-machine) just after midnight, Tehran time, on 1 December 2026."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select

from tests.helpers.referrals import code_of, join_through, set_rules, status
from tests.helpers.web import post_form
from webapp.jobs import get_queue
from webapp.jobs.referrals import award_referral_board_prizes, expire_referrals
from webapp.models import InboxMessage, LedgerEntry, ReferralPrize
from webapp.services import ledger
from webapp.services.referrals import board as referral_board

TEHRAN = ZoneInfo("Asia/Tehran")
JOB_RUNS = datetime(2026, 11, 30, 20, 35, tzinfo=UTC)  # 00:05 on 1 December in Tehran
MONTH = "2026-11"


def enqueue(app, func):
    with app.app_context():
        return get_queue("default").enqueue(func)


def last_month_moment() -> datetime:
    return datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def run_at(when, run_worker):
    with time_machine.travel(when, tick=False):
        run_worker()


def bring_friends(session, referrer_id, count, when):
    code = code_of(session, referrer_id)
    for _ in range(count):
        join_through(session, code, when)


def board_outcome(session, month):
    session.rollback()
    return {
        "prizes": sorted(session.execute(select(ReferralPrize.member_id, ReferralPrize.place,
                                                ReferralPrize.qualified)).all()),
        "entries": session.scalar(select(func.count()).select_from(LedgerEntry)
                                  .where(LedgerEntry.idempotency_key.like(f"referral-board:{month}:%"))),
        "messages": session.scalar(select(func.count()).select_from(InboxMessage)
                                   .where(InboxMessage.kind == "referral_board_prize")),
    }


def test_the_board_prize_is_paid_once_to_the_top_places_ties_at_the_cut_included(
        app, session, make_member, run_worker):
    when, month = last_month_moment(), MONTH
    set_rules(session, when, qualify_on="signup", referrer_amount=10, friend_amount=0, friend_kind="none",
              monthly_cap=0, velocity_link_per_hour=100, board_kind="points", board_amount=1_000, board_places=2)
    first, tied_a, tied_b, fourth = (make_member(now=when).id for _ in range(4))
    bring_friends(session, first, 3, when)
    bring_friends(session, tied_a, 2, when)
    bring_friends(session, tied_b, 2, when + timedelta(hours=2))
    bring_friends(session, fourth, 1, when)
    assert referral_board.previous_month(JOB_RUNS) == month

    jobs = [enqueue(app, award_referral_board_prizes), enqueue(app, award_referral_board_prizes)]
    run_at(JOB_RUNS, run_worker)
    assert jobs[0].return_value() == {"month": month, "paid": [(first, 1), (tied_a, 2), (tied_b, 2)]}
    assert jobs[1].return_value() == {"month": month, "paid": []}
    paid = board_outcome(session, month)
    assert paid == {"prizes": [(first, 1, 3), (tied_a, 2, 2), (tied_b, 2, 2)], "entries": 3, "messages": 3}
    assert [ledger.balance_of(session, m, "points") for m in (first, tied_a, tied_b, fourth)] == [
        30 + 1_000, 20 + 1_000, 20 + 1_000, 10]

    # late qualifications of that month change the board, not the settled prize
    bring_friends(session, fourth, 5, when)
    enqueue(app, award_referral_board_prizes)
    run_at(JOB_RUNS + timedelta(days=1), run_worker)
    assert board_outcome(session, month) == paid
    assert ledger.find_mismatches(session) == []


def test_no_board_prize_named_pays_nobody(app, session, make_member, run_worker):
    when = last_month_moment()
    set_rules(session, when, qualify_on="signup", board_kind="none")
    bring_friends(session, make_member(now=when).id, 2, when)
    job = enqueue(app, award_referral_board_prizes)
    run_at(JOB_RUNS, run_worker)
    assert job.return_value() == {"month": MONTH, "paid": []}
    assert session.scalar(select(func.count()).select_from(ReferralPrize)) == 0


def test_a_month_not_paid_within_a_week_of_its_end_is_never_paid(app, session, make_member, run_worker):
    """A prize named on the 20th does not pay out the month before."""
    when = last_month_moment()
    set_rules(session, when, qualify_on="signup", board_kind="points", board_amount=500)
    bring_friends(session, make_member(now=when).id, 2, when)
    late = enqueue(app, award_referral_board_prizes)
    run_at(JOB_RUNS + timedelta(days=7, minutes=1), run_worker)
    assert late.return_value() == {"month": MONTH, "paid": []}
    in_time = enqueue(app, award_referral_board_prizes)
    run_at(JOB_RUNS + timedelta(days=6), run_worker)  # a week of missed nights is still made up
    assert len(in_time.return_value()["paid"]) == 1


def test_a_credit_board_prize_goes_through_the_ledger_with_its_key(app, session, client, make_member, run_worker):
    when, month = last_month_moment(), MONTH
    set_rules(session, when, qualify_on="signup", referrer_kind="none", board_kind="credit", board_amount=70_000)
    winner_member = make_member(now=when, email="winner@example.com", password="winner-password")
    winner = winner_member.id
    bring_friends(session, winner, 1, when)
    enqueue(app, award_referral_board_prizes)
    run_at(JOB_RUNS, run_worker)
    session.rollback()
    entry = ledger.entry_by_key(session, f"referral-board:{month}:{winner}")
    assert entry.currency == "credit" and entry.amount == 70_000 and entry.source_type == "referral_board"
    message = session.scalar(select(InboxMessage).where(InboxMessage.kind == "referral_board_prize"))
    assert message.params == {"month": month, "place": 1, "qualified": 1, "kind": "credit", "amount": 70_000,
                              "issued": True}
    session.remove()
    post_form(client, "/login", {"login": "winner@example.com", "password": "winner-password"})
    html = client.get("/me/inbox").get_data(as_text=True)
    assert "You are number 1 among last month" in html and "1 friend you invited qualified." in html
    assert "of store credit, added to your wallet" in html


def test_pending_referrals_past_their_window_expire_once(app, session, make_member, run_worker):
    start = datetime.now(UTC) - timedelta(days=40)
    set_rules(session, start, qualify_on="purchase", qualify_days=30)
    referrer = make_member(now=start).id
    _old_friend, old = join_through(session, code_of(session, referrer), start)
    _new_friend, recent = join_through(session, code_of(session, referrer), datetime.now(UTC))
    jobs = [enqueue(app, expire_referrals), enqueue(app, expire_referrals)]
    run_worker()
    assert [job.return_value() for job in jobs] == [1, 0]
    assert status(session, old) == "expired" and status(session, recent) == "pending"
