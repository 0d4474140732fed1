"""Each fraud check through the service, the way sign-ups arrive: the referral
is held (never silently paid, never dropped), nothing is paid while it is
held, and staff approval pays it (or a rejection never does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.referrals import buy, code_of, join_through, set_rules, status
from webapp.models import LedgerEntry, Referral
from webapp.services import ledger, referrals
from webapp.services.members import audit


def points(session, member_id):
    session.expire_all()
    return ledger.balance_of(session, member_id, "points")


def referral_payments(session, referral_id):
    return session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.idempotency_key.like(f"referral:{referral_id}:%")))


def flags(session, referral_id):
    session.expire_all()
    return session.get(Referral, referral_id).flags


def assert_held_then_approval_pays(session, referral_id, referrer_id, now, *, amount=300, before=0):
    assert status(session, referral_id) == "held"
    assert referral_payments(session, referral_id) == 0 and points(session, referrer_id) == before
    referrals.approve(session, referral_id, actor=audit.CLI, now=now, note="checked")
    session.commit()
    assert status(session, referral_id) == "qualified"
    assert points(session, referrer_id) == amount


@pytest.fixture
def signup_rules(session, now):
    return set_rules(session, now, qualify_on="signup", referrer_amount=300, friend_amount=100)


@pytest.mark.parametrize("friend_email", ["ali.reza+invite@gmail.com", "AliReza@googlemail.com",
                                          "a.l.i.r.e.z.a@gmail.com"])
def test_a_friend_with_the_referrers_own_gmail_spelled_otherwise_is_held(
        session, make_member, now, signup_rules, friend_email):
    referrer = make_member(email="alireza@gmail.com", now=now).id
    _friend, referral_id = join_through(session, code_of(session, referrer), now, email=friend_email)
    assert flags(session, referral_id) == ["self_email"]
    assert_held_then_approval_pays(session, referral_id, referrer, now)


def test_plus_tags_count_as_the_same_mailbox_outside_gmail_too(session, make_member, now, signup_rules):
    referrer = make_member(email="sara@example.org", now=now).id
    _friend, referral_id = join_through(session, code_of(session, referrer), now, email="sara+2@example.org")
    assert flags(session, referral_id) == ["self_email"]
    # but dots are only ignored by Gmail
    _other, clean = join_through(session, code_of(session, referrer), now, email="s.ara@example.org")
    assert status(session, clean) == "qualified"


def test_a_friend_joining_from_the_referrers_device_is_held(session, make_member, now, signup_rules):
    referrer = make_member(now=now).id
    referrals.remember_device(session, referrer, "cookie-hash-1", now)
    session.commit()
    _friend, referral_id = join_through(session, code_of(session, referrer), now, visitor="cookie-hash-1")
    assert flags(session, referral_id) == ["self_device"]
    _other, clean = join_through(session, code_of(session, referrer), now, visitor="cookie-hash-2")
    assert status(session, clean) == "qualified"
    assert_held_then_approval_pays(session, referral_id, referrer, now, amount=600, before=300)


def test_too_many_sign_ups_through_one_link_in_an_hour_are_held(session, make_member, now):
    set_rules(session, now, qualify_on="signup", referrer_amount=300, velocity_link_per_hour=2, monthly_cap=0)
    referrer = make_member(now=now).id
    code = code_of(session, referrer)
    joined = [join_through(session, code, now + timedelta(minutes=n), ip_hash=f"ip-{n}")[1] for n in range(3)]
    assert [status(session, r) for r in joined] == ["qualified", "qualified", "held"]
    assert flags(session, joined[2]) == ["velocity_link"]
    assert points(session, referrer) == 600
    # an hour later the link is quiet again
    _late, late = join_through(session, code, now + timedelta(minutes=61), ip_hash="ip-late")
    assert status(session, late) == "qualified"
    referrals.approve(session, joined[2], actor=audit.CLI, now=now)
    session.commit()
    assert points(session, referrer) == 1_200


def test_too_many_sign_ups_from_one_address_in_an_hour_are_held(session, make_member, now):
    set_rules(session, now, qualify_on="signup", referrer_amount=300, velocity_ip_per_hour=2)
    referrers = [make_member(now=now).id for _ in range(3)]
    joined = [join_through(session, code_of(session, r), now + timedelta(minutes=n), ip_hash="same-ip")[1]
              for n, r in enumerate(referrers)]
    assert [status(session, r) for r in joined] == ["qualified", "qualified", "held"]
    assert flags(session, joined[2]) == ["velocity_ip"]
    assert_held_then_approval_pays(session, joined[2], referrers[2], now)


def test_a_throwaway_address_from_the_blocklist_is_held(session, make_member, now, signup_rules):
    referrer = make_member(now=now).id
    _friend, referral_id = join_through(session, code_of(session, referrer), now, email="friend@mailinator.com")
    assert flags(session, referral_id) == ["disposable_email"]
    referrals.reject(session, referral_id, actor=audit.CLI, now=now, note="throwaway")
    session.commit()
    assert status(session, referral_id) == "rejected"
    assert referral_payments(session, referral_id) == 0 and points(session, referrer) == 0


@pytest.mark.parametrize("email", ["friend@anything.xyz", "friend@my-trash.example", "friend@mx.my-trash.example"])
def test_the_clubs_own_throwaway_domains_and_patterns_are_held(session, make_member, now, email):
    set_rules(session, now, qualify_on="signup", referrer_amount=300,
              extra_disposable="# the club's own list\n*.xyz\nmy-trash.example")
    referrer = make_member(now=now).id
    _friend, referral_id = join_through(session, code_of(session, referrer), now, email=email)
    assert flags(session, referral_id) == ["disposable_email"]
    assert_held_then_approval_pays(session, referral_id, referrer, now)


def test_throwaway_addresses_pass_when_the_club_does_not_hold_them(session, make_member, now):
    set_rules(session, now, qualify_on="signup", hold_disposable=False, extra_disposable="*.xyz")
    referrer = make_member(now=now).id
    _friend, referral_id = join_through(session, code_of(session, referrer), now, email="friend@site.xyz")
    assert status(session, referral_id) == "qualified"


def test_a_held_friend_who_buys_is_paid_only_after_approval(session, make_member, now):
    set_rules(session, now, min_purchase=100_000, referrer_amount=300, friend_amount=100)
    referrer = make_member(email="nima@gmail.com", now=now).id
    friend, referral_id = join_through(session, code_of(session, referrer), now, email="n.i.m.a@gmail.com")
    buy(session, friend, 500_000, now)
    assert status(session, referral_id) == "held"
    assert referral_payments(session, referral_id) == 0 and points(session, referrer) == 0
    referrals.approve(session, referral_id, actor=audit.CLI, now=now + timedelta(hours=2))
    session.commit()
    assert status(session, referral_id) == "qualified"
    assert points(session, referrer) == 300 and referral_payments(session, referral_id) == 2


def test_a_rejected_friend_who_buys_later_pays_nobody(session, make_member, now):
    set_rules(session, now, min_purchase=100_000, referrer_amount=300)
    referrer = make_member(now=now).id
    referrals.remember_device(session, referrer, "shared-phone", now)
    session.commit()
    friend, referral_id = join_through(session, code_of(session, referrer), now, visitor="shared-phone")
    referrals.reject(session, referral_id, actor=audit.CLI, now=now)
    session.commit()
    buy(session, friend, 500_000, now)
    assert status(session, referral_id) == "rejected"
    assert referral_payments(session, referral_id) == 0 and points(session, referrer) == 0
