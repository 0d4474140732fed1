"""Eight friends of one referrer qualify at the same moment (their purchases
posted in parallel, each thread with its own session and connection, as web
workers have) under a monthly cap of three: exactly three referrer rewards,
every friend's gift, and the ledger balanced. The cap is counted under the
referrer's row lock (PostgreSQL); SQLite's BEGIN IMMEDIATE serialises writers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.referrals import code_of, join_through, set_rules
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import LedgerEntry, Referral
from webapp.services import ledger
from webapp.services.ledger import purchases

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

FRIENDS = 8


def test_friends_qualifying_at_once_never_pass_the_referrers_monthly_cap(app, session, make_member, now):
    set_rules(session, now, min_purchase=100_000, monthly_cap=3, referrer_amount=300, friend_amount=100,
              velocity_link_per_hour=100)
    referrer = make_member(now=now).id
    code = code_of(session, referrer)
    friends = [join_through(session, code, now)[0] for _ in range(FRIENDS)]
    session.remove()
    when = now + timedelta(hours=1)

    outcomes = run_together(app, FRIENDS, lambda i: purchases.record_purchase(
        db.session, member_id=friends[i], amount=200_000, currency="IRR", occurred_at=when, now=when,
        external_ref=f"till-at-once-{i}"))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    statuses = session.execute(select(Referral.status, Referral.referrer_rewarded)).all()
    assert sorted(statuses) == sorted([("qualified", True)] * 3 + [("qualified", False)] * (FRIENDS - 3))
    referrer_rewards = session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.idempotency_key.like("referral:%:referrer")))
    assert referrer_rewards == 3
    assert ledger.balance_of(session, referrer, "points") == 900
    assert session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.idempotency_key.like("referral:%:friend"))) == FRIENDS
    assert ledger.find_mismatches(session) == []
