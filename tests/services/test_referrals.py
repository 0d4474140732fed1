"""Referral qualification and payment: both sides paid once when the friend
qualifies (on joining, or on the first purchase over the minimum within the
window), the monthly cap, refunds taking it all back without a negative
balance, and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.referrals import buy, code_of, join_through, set_rules, status
from webapp.models import InboxMessage, LedgerEntry, Member, Referral
from webapp.services import ledger, referrals
from webapp.services.ledger import purchases
from webapp.services.ledger.purchases import DuplicateTransaction


def points(session, member_id):
    session.expire_all()
    return ledger.balance_of(session, member_id, "points")


def test_the_first_purchase_over_the_minimum_pays_both_sides_once(session, make_member, now):
    set_rules(session, now, min_purchase=500_000, referrer_amount=300, friend_amount=100)
    referrer = make_member(now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now)
    assert status(session, referral_id) == "pending"

    buy(session, friend, 400_000, now)  # under the minimum: nothing yet
    assert status(session, referral_id) == "pending" and points(session, referrer) == 0

    before = points(session, friend)
    buy(session, friend, 600_000, now, ref="till-big")
    assert status(session, referral_id) == "qualified"
    assert points(session, referrer) == 300
    assert points(session, friend) - before == 100 + 60  # the gift and the purchase's own points

    with pytest.raises(DuplicateTransaction):  # the till posts the same sale again
        buy(session, friend, 600_000, now, ref="till-big")
    session.rollback()
    buy(session, friend, 900_000, now)  # a later purchase qualifies nothing more
    assert points(session, referrer) == 300
    keys = set(session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.source_type == "referral")))
    assert keys == {f"referral:{referral_id}:friend", f"referral:{referral_id}:referrer"}
    kinds = set(session.scalars(select(InboxMessage.kind).where(InboxMessage.key.like("referral:%"))))
    assert kinds == {"referral_welcome", "referral_qualified"}


def test_qualifying_on_sign_up_pays_at_once(session, make_member, now):
    set_rules(session, now, qualify_on="signup", referrer_kind="credit", referrer_amount=50_000)
    referrer = make_member(now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now)
    assert status(session, referral_id) == "qualified"
    assert ledger.balance_of(session, referrer, "credit") == 50_000
    assert points(session, friend) == 200


def test_a_purchase_after_the_window_does_not_qualify_and_the_referral_expires(session, make_member, now):
    set_rules(session, now, qualify_days=7)
    referrer = make_member(now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now)
    buy(session, friend, 1_000_000, now, after=timedelta(days=8))
    assert status(session, referral_id) == "pending" and points(session, referrer) == 0
    assert referrals.expire_overdue(session, now + timedelta(days=8)) == 1
    assert referrals.expire_overdue(session, now + timedelta(days=8)) == 0
    session.commit()
    assert status(session, referral_id) == "expired"


def test_the_friends_terms_are_those_of_the_day_they_joined(session, make_member, now):
    set_rules(session, now, referrer_amount=300)
    referrer = make_member(now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now)
    set_rules(session, now, referrer_amount=10)
    buy(session, friend, 100_000, now)
    assert points(session, referrer) == 300


def test_the_monthly_cap_stops_the_referrers_rewards_not_the_friends(session, make_member, now):
    set_rules(session, now, qualify_on="signup", monthly_cap=2, referrer_amount=100, friend_amount=10)
    referrer = make_member(now=now).id
    code = code_of(session, referrer)
    joined = [join_through(session, code, now) for _ in range(3)]
    assert points(session, referrer) == 200
    assert all(points(session, friend) == 10 for friend, _ in joined)
    capped = session.get(Referral, joined[2][1])
    assert capped.status == "qualified" and not capped.referrer_rewarded
    # a new month, a new allowance (the club's month: Tehran is ahead of UTC)
    join_through(session, code, now + timedelta(days=6))
    assert points(session, referrer) == 300


def test_a_refund_under_the_minimum_takes_everything_back_never_below_zero(session, make_member, now):
    set_rules(session, now, min_purchase=500_000, referrer_amount=300, friend_kind="credit", friend_amount=20_000)
    referrer = make_member(now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now)
    purchase = buy(session, friend, 800_000, now)
    assert points(session, referrer) == 300
    ledger.spend_points(session, referrer, 250, key="spent", now=now)  # the referrer spent most of it
    session.commit()

    purchases.refund_purchase(session, purchase_id=purchase.id, amount=200_000, now=now)  # still over
    session.commit()
    assert status(session, referral_id) == "qualified"
    purchases.refund_purchase(session, purchase_id=purchase.id, amount=200_000, now=now)  # now under
    session.commit()
    assert status(session, referral_id) == "reversed"
    assert points(session, referrer) == 0
    assert ledger.balance_of(session, friend, "credit") == 0
    assert ledger.find_mismatches(session) == []
    # the rest of the refund changes nothing more
    purchases.refund_purchase(session, purchase_id=purchase.id, now=now)
    session.commit()
    assert session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.idempotency_key.like(f"referral:{referral_id}:%:reversal"))) == 2
    assert session.scalar(select(func.count(InboxMessage.id)).where(InboxMessage.kind == "referral_reversed")) == 1


def test_a_reversal_frees_a_place_under_the_cap(session, make_member, now):
    set_rules(session, now, monthly_cap=1, referrer_amount=100)
    referrer = make_member(now=now).id
    code = code_of(session, referrer)
    first, _ = join_through(session, code, now)
    second, second_referral = join_through(session, code, now)
    purchase = buy(session, first, 100_000, now)
    purchases.refund_purchase(session, purchase_id=purchase.id, now=now)
    session.commit()
    buy(session, second, 100_000, now)
    assert session.get(Referral, second_referral).referrer_rewarded
    assert points(session, referrer) == 100


def test_a_suspended_members_link_no_longer_works(session, make_member, now):
    set_rules(session, now, qualify_on="signup")
    referrer = make_member(now=now).id
    code = code_of(session, referrer)
    session.get(Member, referrer).status = "suspended"
    session.commit()
    assert referrals.resolve(session, code) is None
    assert referrals.resolve(session, code.lower()) is None


def test_the_funnel_and_the_monthly_board_count_what_happened(session, make_member, now):
    from webapp.services.referrals import stats

    set_rules(session, now, qualify_on="signup", referrer_amount=100, monthly_cap=0)
    ana, bob = make_member(now=now).id, make_member(now=now).id
    for _ in range(3):
        join_through(session, code_of(session, ana), now)
    join_through(session, code_of(session, bob), now)
    link = referrals.resolve(session, code_of(session, ana))
    for visitor in ("v1", "v2", "v2"):
        referrals.record_open(session, link, visitor=visitor, user_agent="Mozilla/5.0 (Linux; Android 14)", now=now)
    session.commit()

    f = stats.funnel(session, referrer_id=ana)
    assert (f.opens, f.signups, f.qualified, f.points_earned) == (2, 3, 3, 300)
    month = referrals.club_month(now)
    board = stats.monthly_board(session, month)
    assert [(r.member_id, r.rank, r.qualified) for r in board] == [(ana, 1, 3), (bob, 2, 1)]
    assert stats.rank_in_month(session, month, bob) == (2, 1)
    assert stats.rank_in_month(session, "2020-01", bob) is None


def test_a_purchase_from_before_the_friend_joined_does_not_qualify(session, make_member, now):
    set_rules(session, now)
    referrer = make_member(now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now)
    buy(session, friend, 1_000_000, now, after=-timedelta(days=2))  # posted late by the till
    assert status(session, referral_id) == "pending"
    buy(session, friend, 1_000_000, now, after=-timedelta(minutes=20))  # rung up during the same visit
    assert status(session, referral_id) == "qualified"
