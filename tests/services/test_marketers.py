"""Marketers (affiliates): creating and promoting them, their codes beside the
members' codes, commissions through a campaign link (fixed + basis points)
taken back on refund, payouts that never exceed the balance (also when they
race), store credit for a member-backed marketer once, and the set-password link."""

from __future__ import annotations

from itertools import count

import pytest
from sqlalchemy import func, select

from tests.helpers.referrals import buy, join_through, set_rules, status
from tests.helpers.threads import run_together
from webapp.extensions import db
from webapp.models import AuditLog, LedgerEntry, Marketer, MarketerEntry, Referral
from webapp.services import ledger, referrals
from webapp.services.errors import IdempotencyConflict, InsufficientBalance
from webapp.services.ledger import purchases
from webapp.services.members import accounts, audit
from webapp.services.referrals import marketer_ledger, marketers
from webapp.services.referrals.marketers import MarketerTerms

SECRET = "test-secret"
_N = count(1)


def make_marketer(session, now, *, email=None, code=None, amount=0, bp=0, password="partner-pass-1"):
    marketer = marketers.create_marketer(
        session, MarketerTerms("Nima Ads", commission_amount=amount, commission_bp=bp),
        email=email or f"nima{next(_N)}@partners.example.com", password=password, code=code,
        actor=audit.CLI, now=now)
    session.commit()
    return marketer


def actions(session):
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


# -- creating, promoting, codes -------------------------------------------------------


def test_a_marketer_outside_the_member_base_gets_a_code_and_signs_in_with_their_password(session, now):
    marketer = make_marketer(session, now, email="Nima@Partners.example.com")
    assert marketer.email == "nima@partners.example.com" and marketer.member_id is None
    assert len(marketer.code) == 8 and set(marketer.code) <= set(marketers.CODE_ALPHABET)
    assert marketer.password_hash.startswith("$argon2id$")
    assert marketers.authenticate(session, "NIMA@partners.example.com", "partner-pass-1", now).id == marketer.id
    assert marketers.authenticate(session, "nima@partners.example.com", "wrong-password", now) is None
    assert marketers.authenticate(session, "nobody@partners.example.com", "partner-pass-1", now) is None
    assert marketers.authenticate(session, "not an e-mail", "partner-pass-1", now) is None
    assert actions(session) == ["marketer.create"]
    assert marketer.get_id() == f"k:{marketer.session_token}" and not marketer.is_member


def test_a_vanity_code_is_upper_cased_and_uses_only_the_code_letters(session, now):
    assert make_marketer(session, now, code=" sara2 ").code == "SARA2"
    for bad in ("AB2", "NO0NE", "ALI7", "A" * 17, "NIMA-2"):  # too short, 0/O, L/I, too long, a dash
        with pytest.raises(marketers.MarketerInvalid) as caught:
            make_marketer(session, now, code=bad)
        assert caught.value.problems == {"code": "marketer_code_format"}
        session.rollback()


def test_a_code_can_never_be_both_a_members_and_a_marketers(session, make_member, now):
    member = make_member(now=now)
    with pytest.raises(marketers.CodeTaken):
        make_marketer(session, now, code=member.referral_code.lower())
    session.rollback()
    make_marketer(session, now, code="KAVEH")
    with pytest.raises(marketers.CodeTaken):
        make_marketer(session, now, code="kaveh")
    session.rollback()
    assert session.scalar(select(func.count(Marketer.id))) == 1


@pytest.mark.real_commits
def test_two_marketers_claiming_one_code_at_once_get_it_once(app, session, now):
    outcomes = run_together(app, 8, lambda i: marketers.create_marketer(
        db.session, MarketerTerms(f"M{i}"), email=f"m{i}@partners.example.com", code="SAMEKEY7",
        actor=audit.CLI, now=now).id)
    assert sum(isinstance(o, int) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, (int, marketers.CodeTaken)) for o in outcomes), outcomes


def test_a_member_is_promoted_by_mobile_once_and_an_e_mail_of_a_member_cannot_be_a_partner_login(
        session, make_member, now):
    member = make_member(mobile="09121112233", now=now)
    promoted = marketers.promote_member(session, MarketerTerms("Sara"), login="۰۹۱۲ ۱۱۱ ۲۲۳۳",
                                        actor=audit.CLI, now=now)
    session.commit()
    assert promoted.member_id == member.id and promoted.email is None and promoted.password_hash is None
    assert marketers.of_member(session, member.id).id == promoted.id
    with pytest.raises(marketers.AlreadyMarketer):
        marketers.promote_member(session, MarketerTerms("Sara"), login="09121112233", actor=audit.CLI, now=now)
    with pytest.raises(marketers.MemberUnknown):
        marketers.promote_member(session, MarketerTerms("X"), login="nobody@example.com", actor=audit.CLI, now=now)
    other = make_member(email="taken@example.com", now=now)
    with pytest.raises(marketers.EmailIsMember):
        make_marketer(session, now, email="taken@example.com")
    assert other.id and actions(session) == ["marketer.promote"]
    # a member-backed marketer cannot sign in at /partner/login: they sign in as the member
    assert marketers.authenticate(session, "taken@example.com", "partner-pass-1", now) is None


def test_bad_terms_are_refused_field_by_field(session, now):
    with pytest.raises(marketers.MarketerInvalid) as caught:
        marketers.create_marketer(session, MarketerTerms(" ", commission_amount=-1, commission_bp=10_001),
                                  email="x@partners.example.com", actor=audit.CLI, now=now)
    assert set(caught.value.problems) == {"name", "commission_amount", "commission_bp"}


def test_editing_and_suspending_are_audited_and_a_suspended_link_stops_resolving(session, now):
    marketer = make_marketer(session, now, code="SARA2")
    token = marketer.session_token
    marketers.update_marketer(session, marketer.id, MarketerTerms("Nima", commission_amount=7_000),
                              actor=audit.CLI, now=now)
    marketers.set_status(session, marketer.id, "suspended", actor=audit.CLI, now=now, reason="fraud check")
    session.commit()
    assert referrals.resolve(session, "sara2", "insta") is None
    assert marketer.session_token != token  # signed-in sessions end
    marketers.set_status(session, marketer.id, "active", actor=audit.CLI, now=now)
    session.commit()
    assert referrals.resolve(session, "sara2", "insta").campaign == "insta"
    assert actions(session) == ["marketer.create", "marketer.update", "marketer.suspend", "marketer.reactivate"]
    update = session.scalar(select(AuditLog).where(AuditLog.action == "marketer.update"))
    assert update.before == {"name": "Nima Ads", "commission_amount": 0}
    assert update.after == {"name": "Nima", "commission_amount": 7_000}


# -- commissions through a campaign link --------------------------------------------


def test_a_friend_from_a_campaign_link_earns_the_fixed_and_the_percent_commission_once(session, now):
    set_rules(session, now, min_purchase=500_000, referrer_amount=300)
    marketer = make_marketer(session, now, amount=5_000, bp=250)  # 5,000 + 2.5 %
    friend, referral_id = join_through(session, marketer.code.lower(), now, campaign="Insta-Story")
    referral = session.get(Referral, referral_id)
    assert (referral.marketer_id, referral.campaign, referral.referrer_id) == (marketer.id, "insta-story", None)

    buy(session, friend, 400_000, now)  # under the minimum
    assert marketer_ledger.balance(session, marketer.id) == 0
    purchase = buy(session, friend, 1_000_000, now, ref="till-qualifies")
    assert status(session, referral_id) == "qualified"
    assert marketer_ledger.balance(session, marketer.id) == 5_000 + 25_000
    buy(session, friend, 2_000_000, now)  # a later purchase pays nothing more
    assert marketer_ledger.balance(session, marketer.id) == 30_000

    [tagged] = marketers.campaign_funnels(session, marketer.id)
    assert (tagged.campaign, tagged.signups, tagged.qualified, tagged.commission) == ("insta-story", 1, 1, 30_000)

    # part of it was paid out; then the qualifying purchase is refunded
    marketers.pay_out(session, marketer.id, 10_000, reference="TRX-1", key="t1", actor=audit.CLI, now=now)
    session.commit()
    purchases.refund_purchase(session, purchase_id=purchase.id, now=now)
    session.commit()
    assert status(session, referral_id) == "reversed"
    assert marketer_ledger.balance(session, marketer.id) == 0  # never below zero
    got = marketers.earnings(session, marketer.id)
    assert (got.earned, got.reversed, got.paid_out, got.balance) == (30_000, 20_000, 10_000, 0)
    [tagged] = marketers.campaign_funnels(session, marketer.id)
    assert (tagged.reversed, tagged.commission) == (1, 10_000)


def test_opens_and_sign_ups_are_counted_per_campaign_tag(session, now):
    set_rules(session, now, qualify_on="signup")
    marketer = make_marketer(session, now, amount=1_000)
    for visitor, tag in (("v1", "insta"), ("v2", "insta"), ("v3", None), ("v1", "insta")):
        link = referrals.resolve(session, marketer.code, tag)
        referrals.record_open(session, link, visitor=visitor, user_agent="Mozilla/5.0 (Android 14)", now=now)
    session.commit()
    join_through(session, marketer.code, now, campaign="insta")
    rows = {r.campaign: r for r in marketers.campaign_funnels(session, marketer.id)}
    assert set(rows) == {None, "insta"}
    assert (rows["insta"].opens, rows["insta"].signups, rows["insta"].qualified) == (2, 1, 1)
    assert rows["insta"].conversion_bp == 5_000 and rows[None].opens == 1
    assert marketer_ledger.balance(session, marketer.id) == 1_000


# -- paying out ------------------------------------------------------------------


def fund(session, marketer_id, amount, now, key="fund"):
    marketer_ledger.post(session, marketer_id=marketer_id, amount=amount, kind="adjustment", key=key, now=now)
    session.commit()


def test_a_payout_is_never_above_the_balance_and_a_replayed_form_pays_once(session, now):
    marketer = make_marketer(session, now)
    fund(session, marketer.id, 50_000, now)
    with pytest.raises(InsufficientBalance):
        marketers.pay_out(session, marketer.id, 50_001, reference="TRX-9", key="big", actor=audit.CLI, now=now)
    session.rollback()
    with pytest.raises(marketers.PayoutInvalid):
        marketers.pay_out(session, marketer.id, 100, reference="  ", key="noref", actor=audit.CLI, now=now)
    first = marketers.pay_out(session, marketer.id, 20_000, reference="TRX-10", key="form-1", actor=audit.CLI,
                              now=now)
    again = marketers.pay_out(session, marketer.id, 20_000, reference="TRX-10", key="form-1", actor=audit.CLI,
                              now=now)
    session.commit()
    assert (first.balance, first.replayed, again.replayed, again.entry.id) == (30_000, False, True, first.entry.id)
    with pytest.raises(IdempotencyConflict):  # the same form token with another amount
        marketers.pay_out(session, marketer.id, 5_000, reference="TRX-10", key="form-1", actor=audit.CLI, now=now)
    session.rollback()
    assert actions(session).count("marketer.payout") == 1
    payout = session.scalar(select(MarketerEntry).where(MarketerEntry.kind == "payout"))
    assert (payout.amount, payout.reference) == (-20_000, "TRX-10")


@pytest.mark.real_commits
def test_concurrent_payouts_never_overdraw(app, session, now):
    marketer = make_marketer(session, now)
    fund(session, marketer.id, 1_000, now)
    session.remove()
    outcomes = run_together(app, 20, lambda i: marketers.pay_out(
        db.session, marketer.id, 150, reference=f"TRX-{i}", key=f"race-{i}", actor=audit.CLI, now=now))
    paid = [o for o in outcomes if isinstance(o, marketers.Payout)]
    assert len(paid) == 6 and all(isinstance(o, InsufficientBalance) for o in outcomes if o not in paid), outcomes
    assert marketer_ledger.balance(session, marketer.id) == 100
    total = session.scalar(select(func.sum(MarketerEntry.amount)).where(MarketerEntry.marketer_id == marketer.id))
    assert total == 100


@pytest.mark.real_commits
def test_a_member_backed_marketer_takes_the_balance_as_store_credit_once(app, session, make_member, now):
    member = make_member(now=now)
    promoted = marketers.promote_member(session, MarketerTerms("Sara"), login=member.email, actor=audit.CLI,
                                        now=now)
    session.commit()
    fund(session, promoted.id, 40_000, now)
    session.remove()
    outcomes = run_together(app, 5, lambda i: marketers.convert_to_credit(
        db.session, promoted.id, 40_000, key="credit-form", actor=audit.CLI, now=now).replayed)
    assert sorted(o for o in outcomes if isinstance(o, bool)) == [False, True, True, True, True], outcomes
    assert ledger.balance_of(session, member.id, "credit") == 40_000
    assert marketer_ledger.balance(session, promoted.id) == 0
    assert session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.idempotency_key == "marketer-credit:credit-form")) == 1
    assert actions(session).count("marketer.convert_credit") == 1
    assert ledger.find_mismatches(session) == []

    outsider = make_marketer(session, now)
    fund(session, outsider.id, 10, now, key="fund-2")
    with pytest.raises(marketers.NotMemberBacked):
        marketers.convert_to_credit(session, outsider.id, 10, key="k", actor=audit.CLI, now=now)


# -- the set-password link ---------------------------------------------------------


def test_a_set_password_link_works_once(session, now):
    marketer = make_marketer(session, now, password=None)
    assert marketers.authenticate(session, marketer.email, "", now) is None
    token = marketers.password_link_token(session, marketer.id, secret=SECRET, actor=audit.CLI, now=now)
    session.commit()
    found = marketers.marketer_for_password_token(session, token, secret=SECRET)
    marketers.set_password(found, "a-new-password", now=now)
    session.commit()
    assert marketers.authenticate(session, marketer.email, "a-new-password", now).id == marketer.id
    with pytest.raises(marketers.InvalidPasswordLink):
        marketers.marketer_for_password_token(session, token, secret=SECRET)
    with pytest.raises(marketers.InvalidPasswordLink):
        marketers.marketer_for_password_token(session, token + "x", secret=SECRET)
    with pytest.raises(accounts.WeakPassword):
        marketers.set_password(found, "short", now=now)


# -- the staff list -------------------------------------------------------------


def test_the_staff_list_is_one_query_whatever_the_number_of_marketers(session, make_member, now, count_queries):
    set_rules(session, now, qualify_on="signup")
    first = make_marketer(session, now, code="FRST2")
    make_marketer(session, now, code="SECND")
    member = make_member(now=now)
    marketers.promote_member(session, MarketerTerms("Sara"), login=member.email, actor=audit.CLI, now=now)
    session.commit()
    join_through(session, first.code, now)
    join_through(session, first.code, now)
    session.expire_all()
    with count_queries() as statements:
        rows, more = marketers.marketer_rows(session, page=1)
    assert len(statements) == 1 and not more
    by_code = {r.marketer.code: r for r in rows}
    assert (by_code["FRST2"].signups, by_code["FRST2"].qualified, by_code["SECND"].signups) == (2, 2, 0)
    assert [r.member_name for r in rows if r.marketer.member_id] == ["Test Member"]
    rows, _ = marketers.marketer_rows(session, page=1, query="frst")
    assert [r.marketer.code for r in rows] == ["FRST2"]


def test_a_refused_debit_leaves_no_entry_even_if_the_caller_commits(session, now):
    from webapp.models import Marketer, MarketerEntry
    from webapp.services.errors import InsufficientBalance
    from webapp.services.referrals import marketer_ledger

    marketer = Marketer(name="Nima", code="NIMA2345", email="nima@example.com")
    session.add(marketer)
    session.flush()
    marketer_ledger.post(session, marketer_id=marketer.id, amount=1_000, kind="commission", key="in", now=now)
    with pytest.raises(InsufficientBalance):
        marketer_ledger.post(session, marketer_id=marketer.id, amount=-1_001, kind="payout", key="out", now=now)
    session.commit()
    assert [e.idempotency_key for e in session.scalars(select(MarketerEntry))] == ["in"]
    assert marketer_ledger.balance(session, marketer.id) == 1_000 and marketer_ledger.find_mismatches(session) == []
