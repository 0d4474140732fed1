"""/admin/marketers: who may read, create and pay out; creating (and promoting
a member) through the form, code collisions as form errors, payouts never
above the balance and once per form, store credit for a member, suspending,
the set-password link; every write audited, CSRF required."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.web import csrf_token, in_db, post_form, sign_in_staff
from webapp.models import AuditLog, LedgerEntry, Marketer, MarketerEntry
from webapp.services import ledger
from webapp.services.members import audit
from webapp.services.referrals import marketer_ledger, marketers
from webapp.services.referrals.marketers import MarketerTerms

NEW = "/admin/marketers/new"


def new_form(**changes) -> dict:
    return {"who": "outside", "name": "Nima Ads", "email": "nima@partners.example.com", "password": "",
            "login": "", "code": "", "commission_amount": "۵٬۰۰۰", "commission_percent": "2.5", "note": "",
            **changes}


def audits(app):
    return in_db(app, lambda s: list(s.scalars(select(AuditLog.action).where(AuditLog.object_type == "marketer")
                                               .order_by(AuditLog.id))))


def make(app, *, balance=0, member_email=None, code=None):
    def build(s):
        now = datetime.now(UTC)
        if member_email:
            m = marketers.promote_member(s, MarketerTerms("Sara"), login=member_email, code=code,
                                         actor=audit.CLI, now=now)
        else:
            m = marketers.create_marketer(s, MarketerTerms("Kaveh"), email=f"k{code or ''}@partners.example.com",
                                          password="partner-pass-1", code=code, actor=audit.CLI, now=now)
        if balance:
            marketer_ledger.post(s, marketer_id=m.id, amount=balance, kind="adjustment", key=f"fund:{m.id}",
                                 now=now)
        s.commit()
        return m.id
    return in_db(app, build)


@pytest.mark.parametrize("role,read,create,pay", [
    ("owner", 200, 200, True), ("marketer", 200, 200, False), ("operator", 200, 403, True),
    ("auditor", 200, 403, False)])
def test_capabilities_decide_who_reads_creates_and_pays_out(app, client, make_staff, role, read, create, pay):
    marketer_id = make(app, balance=1_000)
    sign_in_staff(client, make_staff(role))
    assert client.get("/admin/marketers").status_code == read
    page = client.get(f"/admin/marketers/{marketer_id}")
    assert page.status_code == read
    assert ('action="/admin/marketers/%d/payout"' % marketer_id in page.get_data(as_text=True)) is pay
    assert client.get(NEW).status_code == create
    token = csrf_token(client, "/admin/marketers")
    paid = client.post(f"/admin/marketers/{marketer_id}/payout",
                       data={"csrf_token": token, "amount": "100", "reference": "TRX", "token": "t-1"})
    assert paid.status_code == (302 if pay else 403)
    edit = client.post(f"/admin/marketers/{marketer_id}", data={"csrf_token": token, **new_form(name="X")})
    assert edit.status_code == (302 if create == 200 else 403)


def test_the_staff_area_needs_a_staff_sign_in(client):
    assert client.get("/admin/marketers").status_code == 302


def test_creating_a_marketer_through_the_form_is_audited_and_shows_in_the_list(app, client, make_staff):
    sign_in_staff(client, make_staff("marketer"))
    done = post_form(client, NEW, new_form(code="sara2", password="partner-pass-1"))
    assert done.status_code == 302
    m = in_db(app, lambda s: s.scalar(select(Marketer)))
    assert (m.code, m.commission_amount, m.commission_bp, m.email) == ("SARA2", 5_000, 250, "nima@partners.example.com")
    assert done.headers["Location"] == f"/admin/marketers/{m.id}"
    assert audits(app) == ["marketer.create"]
    actor = in_db(app, lambda s: s.scalar(select(AuditLog.actor).where(AuditLog.object_type == "marketer")))
    assert actor.startswith("staff:")
    listing = client.get("/admin/marketers").get_data(as_text=True)
    assert "SARA2" in listing and "Nima Ads" in listing
    assert "SARA2" in client.get("/admin/marketers?q=sara", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Marketers (affiliates)" in listing  # the navigation names them apart from the staff role


def test_a_code_already_used_by_a_member_or_badly_formed_is_a_form_error(app, client, make_staff, make_member):
    member = make_member()
    sign_in_staff(client, make_staff("owner"))
    taken = post_form(client, NEW, new_form(code=member.referral_code))
    assert taken.status_code == 422 and "already a member" in taken.get_data(as_text=True)
    bad = post_form(client, NEW, new_form(code="OLI"))
    assert bad.status_code == 422 and "without 0, O, 1, I or L" in bad.get_data(as_text=True)
    no_email = post_form(client, NEW, new_form(email=""))
    assert no_email.status_code == 422 and "Enter their e-mail address." in no_email.get_data(as_text=True)
    assert in_db(app, lambda s: s.scalar(select(func.count(Marketer.id)))) == 0


def test_promoting_a_member_and_paying_them_in_store_credit_once(app, client, make_staff, make_member):
    member = make_member(mobile="09121112233")
    sign_in_staff(client, make_staff("owner"))
    unknown = post_form(client, NEW, new_form(who="member", login="09129999999"))
    assert unknown.status_code == 422 and "No member has" in unknown.get_data(as_text=True)
    assert post_form(client, NEW, new_form(who="member", login="۰۹۱۲۱۱۱۲۲۳۳", email="")).status_code == 302
    m_id = in_db(app, lambda s: s.scalar(select(Marketer.id).where(Marketer.member_id == member.id)))
    in_db(app, lambda s: (marketer_ledger.post(s, marketer_id=m_id, amount=30_000, kind="adjustment", key="f",
                                               now=datetime.now(UTC)), s.commit()))
    url = f"/admin/marketers/{m_id}"
    form = {"amount": "30000", "token": "credit-1"}
    assert post_form(client, f"{url}/credit", form, form_url=url).status_code == 302
    again = post_form(client, f"{url}/credit", form, form_url=url, follow_redirects=True)
    assert "already submitted" in again.get_data(as_text=True)
    assert in_db(app, lambda s: ledger.balance_of(s, member.id, "credit")) == 30_000
    assert in_db(app, lambda s: s.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.idempotency_key == "marketer-credit:credit-1"))) == 1
    assert audits(app) == ["marketer.promote", "marketer.convert_credit"]


def test_a_payout_above_the_balance_is_refused_and_a_double_click_pays_once(app, client, make_staff):
    marketer_id = make(app, balance=50_000)
    sign_in_staff(client, make_staff("operator"))
    url = f"/admin/marketers/{marketer_id}"
    too_much = post_form(client, f"{url}/payout", {"amount": "50001", "reference": "TRX-1", "token": "p-1"},
                         form_url=url)
    assert too_much.status_code == 422 and "That is more than the marketer" in too_much.get_data(as_text=True)
    for _ in range(2):
        assert post_form(client, f"{url}/payout", {"amount": "۲۰۰۰۰", "reference": "TRX-2", "token": "p-2"},
                         form_url=url).status_code == 302
    entries = in_db(app, lambda s: list(s.scalars(select(MarketerEntry.amount).where(MarketerEntry.kind == "payout"))))
    assert entries == [-20_000]
    assert in_db(app, lambda s: marketer_ledger.balance(s, marketer_id)) == 30_000
    assert audits(app) == ["marketer.create", "marketer.payout"]
    page = client.get(url).get_data(as_text=True)
    assert "TRX-2" in page
    fragment = client.get(f"{url}?page=1", headers={"HX-Request": "true", "HX-Target": "marketer-entries"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section class="card" id="marketer-entries"')


def test_suspending_stops_the_link_and_is_audited(app, client, make_staff):
    marketer_id = make(app, code="KAVEH")
    sign_in_staff(client, make_staff("marketer"))
    url = f"/admin/marketers/{marketer_id}"
    assert post_form(client, f"{url}/status", {"status": "suspended", "reason": "spam"}, form_url=url).status_code == 302
    assert in_db(app, lambda s: s.get(Marketer, marketer_id).status) == "suspended"
    from webapp.services import referrals

    assert in_db(app, lambda s: referrals.resolve(s, "KAVEH")) is None
    assert post_form(client, f"{url}/status", {"status": "nonsense"}, form_url=url).status_code == 302
    assert post_form(client, f"{url}/status", {"status": "active"}, form_url=url).status_code == 302
    assert audits(app)[-2:] == ["marketer.suspend", "marketer.reactivate"]


def test_edits_are_checked_and_audited(app, client, make_staff):
    marketer_id = make(app)
    sign_in_staff(client, make_staff("marketer"))
    url = f"/admin/marketers/{marketer_id}"
    bad = post_form(client, url, new_form(commission_percent="120"))
    assert bad.status_code == 422
    assert post_form(client, url, new_form(name="Kaveh K", commission_amount="0", commission_percent="۱٫۲۵")
                     ).status_code == 302
    m = in_db(app, lambda s: s.get(Marketer, marketer_id))
    assert (m.name, m.commission_amount, m.commission_bp) == ("Kaveh K", 0, 125)
    assert "marketer.update" in audits(app)


def test_a_set_password_link_lets_the_marketer_choose_a_password_once(app, client, make_staff):
    sign_in_staff(client, make_staff("owner"))
    assert post_form(client, NEW, new_form()).status_code == 302
    marketer_id = in_db(app, lambda s: s.scalar(select(Marketer.id)))
    url = f"/admin/marketers/{marketer_id}"
    page = post_form(client, f"{url}/password-link", {}, form_url=url).get_data(as_text=True)
    link = re.search(r'id="password-link-value"[^>]*value="([^"]+)"', page).group(1)
    path = link.split("localhost", 1)[1]
    assert "marketer.password_link" in audits(app)

    partner = app.test_client()
    assert partner.get(path).status_code == 200
    mismatch = post_form(partner, path, {"password": "partner-pass-9", "confirm": "partner-pass-8"})
    assert mismatch.status_code == 422
    done = post_form(partner, path, {"password": "partner-pass-9", "confirm": "partner-pass-9"})
    assert done.status_code == 302 and done.headers["Location"] == "/partner"
    assert partner.get("/partner").status_code == 200
    assert partner.get(path).status_code == 404  # used: the link is dead


def test_every_staff_write_needs_the_csrf_token(app, client, make_staff):
    marketer_id = make(app, balance=1_000)
    sign_in_staff(client, make_staff("owner"))
    for url, data in ((NEW, new_form()), (f"/admin/marketers/{marketer_id}/payout",
                                          {"amount": "10", "reference": "x", "token": "t"}),
                      (f"/admin/marketers/{marketer_id}/status", {"status": "suspended"}),
                      (f"/admin/marketers/{marketer_id}/password-link", {})):
        assert client.post(url, data=data).status_code == 400, url
    assert in_db(app, lambda s: s.scalar(select(func.count(Marketer.id)))) == 1
    assert client.get("/admin/marketers/999999").status_code == 404
