"""Shared setup for the referral tests: rules saved the way staff save them,
friends joining through a link, purchases posted the way the till posts them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import count

from webapp.models import Member, Referral
from webapp.services import referrals
from webapp.services.ledger import purchases
from webapp.services.members import accounts, audit
from webapp.services.referrals import rules as referral_settings

_N = count(1)


def set_rules(session, now, **changes):
    rules = replace(referral_settings.ReferralSettings(), **changes)
    referral_settings.save_settings(session, rules, actor=audit.CLI, now=now)
    session.commit()
    return rules


def join_through(session, code, now, *, email=None, visitor=None, ip_hash=None, campaign=None):
    """A new member who opened the link `code` and joined; returns (member id, referral or None)."""
    email = email or f"friend{next(_N)}@example.com"
    friend = accounts.create_member(session, ids=accounts.normalise_identifiers(email, None), now=now,
                                   password="friend-password", display_name="Friend")
    link = referrals.resolve(session, code, campaign)
    referral = referrals.on_join(session, friend, link, now=now, visitor=visitor, ip_hash=ip_hash)
    session.commit()
    return friend.id, referral.id if referral else None


def buy(session, member_id, amount, now, *, ref=None, after=timedelta(hours=1)):
    purchase, _ = purchases.record_purchase(session, member_id=member_id, amount=amount, currency="IRR",
                                            occurred_at=now + after, now=now + after,
                                            external_ref=ref or f"till-{next(_N)}")
    session.commit()
    return purchase


def code_of(session, member_id):
    return session.get(Member, member_id).referral_code


def status(session, referral_id):
    session.expire_all()
    return session.get(Referral, referral_id).status
