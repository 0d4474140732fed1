"""Staff pages for referrals: the rules form (saved and audited; wrong input
gives field errors and loses nothing), the review queue (approve pays, reject
never does, both audited, a decided referral answers 409), the report and the
list with their CSV files, and who may read or write."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.referrals import code_of, join_through, set_rules
from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, LedgerEntry, Referral
from webapp.services import ledger, referrals
from webapp.services.referrals import rules as referral_settings

ROLES = ("owner", "marketer", "operator", "auditor")
PAGES = ("/admin/referrals", "/admin/referrals/review", "/admin/referrals/report",
         "/admin/referrals/report?period=day", "/admin/referrals/report?period=month", "/admin/referrals/list",
         "/admin/referrals/list?status=held&days=7")
GOOD = {
    "enabled": "y", "qualify_on": "purchase", "min_purchase": "500000", "qualify_days": "20",
    "referrer_kind": "credit", "referrer_amount": "50000", "referrer_reward_id": "",
    "friend_kind": "points", "friend_amount": "۲۵۰", "friend_reward_id": "",
    "monthly_cap": "4", "attribution_days": "14", "velocity_link_per_hour": "6", "velocity_ip_per_hour": "2",
    "hold_disposable": "y", "extra_disposable": "trash.example\n*.xyz",
    "board_kind": "points", "board_amount": "1000", "board_reward_id": "", "board_places": "3",
}


def audits(app, action):
    return in_db(app, lambda s: list(s.scalars(select(AuditLog).where(AuditLog.action == action)
                                               .order_by(AuditLog.id))))


def held_referral(app, make_member, *, amount=300):
    """A friend who joined from the referrer's own device: held for review
    (the rules qualify on sign-up, so approval pays at once)."""
    now = datetime.now(UTC)
    referrer = make_member(now=now).id

    def make(session):
        set_rules(session, now, qualify_on="signup", referrer_amount=amount, friend_amount=50)
        referrals.remember_device(session, referrer, "device-of-the-referrer", now)
        session.commit()
        return join_through(session, code_of(session, referrer), now, visitor="device-of-the-referrer")

    friend, referral_id = in_db(app, make)
    return referrer, friend, referral_id


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_reads_the_referral_pages_and_finds_them_in_the_menu(client, make_staff, role):
    sign_in(client, make_staff(role))
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    nav = re.search(r'<nav class="admin-nav".*?</nav>', client.get("/admin/").get_data(as_text=True), re.S)
    assert 'href="/admin/referrals"' in nav.group(0)


def test_the_rules_are_saved_audited_and_shown_again(app, owner_client):
    response = post_form(owner_client, "/admin/referrals", GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/referrals"
    saved = in_db(app, referral_settings.load_settings)
    assert saved == referral_settings.ReferralSettings(
        enabled=True, qualify_on="purchase", min_purchase=500_000, qualify_days=20, referrer_kind="credit",
        referrer_amount=50_000, friend_kind="points", friend_amount=250, monthly_cap=4, attribution_days=14,
        velocity_link_per_hour=6, velocity_ip_per_hour=2, hold_disposable=True,
        extra_disposable="trash.example\r\n*.xyz" if "\r" in saved.extra_disposable else "trash.example\n*.xyz",
        board_kind="points", board_amount=1000, board_places=3)
    [row] = audits(app, "settings.referrals")
    assert row.before["referrer_kind"] == "points" and row.after["referrer_kind"] == "credit"
    assert row.after["min_purchase"] == 500_000 and row.staff_id is not None
    html = owner_client.get("/admin/referrals").get_data(as_text=True)
    assert "Referral rules saved." in html and 'value="500000"' in html
    # the example says it in plain words
    assert "first purchase of at least" in html and "250 points" in html
    assert "top 3 referrers each get 1,000 points" in html


@pytest.mark.parametrize("changes,field", [
    ({"qualify_days": "0"}, "qualify_days"),
    ({"monthly_cap": "lots"}, "monthly_cap"),
    ({"referrer_kind": "reward", "referrer_reward_id": ""}, "referrer_reward_id"),
    ({"friend_kind": "points", "friend_amount": ""}, "friend_amount"),
    ({"board_places": "101"}, "board_places"),
    ({"velocity_ip_per_hour": "0"}, "velocity_ip_per_hour"),
])
def test_wrong_input_is_shown_on_its_field_and_nothing_typed_is_lost(app, owner_client, changes, field):
    response = post_form(owner_client, "/admin/referrals", {**GOOD, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html, html
    assert 'value="500000"' in html and "trash.example" in html  # what was typed stays
    for value in changes.values():
        if value:
            assert f'value="{value}"' in html or f'value="{value}" selected' in html
    assert in_db(app, referral_settings.load_settings) == referral_settings.ReferralSettings()
    assert audits(app, "settings.referrals") == []


def test_the_live_example_follows_the_fields(owner_client):
    html = owner_client.get("/admin/referrals/example", query_string={**GOOD, "qualify_on": "signup"}).get_data(
        as_text=True)
    assert "qualifies at once" in html and "gets 250 points" in html
    bad = owner_client.get("/admin/referrals/example", query_string={**GOOD, "qualify_days": "0"})
    assert "Fix the fields above" in bad.get_data(as_text=True)


def test_an_auditor_reads_the_rules_and_queue_but_changes_nothing(app, client, make_staff, make_member):
    _referrer, _friend, referral_id = held_referral(app, make_member)
    rules_audits = len(audits(app, "settings.referrals"))  # the test's own setup, by the CLI
    sign_in(client, make_staff("auditor"))
    html = client.get("/admin/referrals").get_data(as_text=True)
    assert "disabled" in html and "Save referral rules" not in html
    assert post_form(client, "/admin/referrals", GOOD, form_url="/admin/referrals").status_code == 403
    queue = client.get("/admin/referrals/review").get_data(as_text=True)
    assert "Joined from a device the referrer uses" in queue and "Approve" not in queue
    assert post_form(client, f"/admin/referrals/{referral_id}/approve", {},
                     form_url="/admin/referrals").status_code == 403
    assert in_db(app, lambda s: s.get(Referral, referral_id).status) == "held"
    assert len(audits(app, "settings.referrals")) == rules_audits and audits(app, "referral.approve") == []


def test_approving_a_held_referral_pays_both_sides_and_is_audited(app, owner_client, make_member):
    referrer, friend, referral_id = held_referral(app, make_member)
    dashboard = owner_client.get("/admin/").get_data(as_text=True)
    assert 'id="stat-held-referrals">1<' in dashboard and 'href="/admin/referrals/review"' in dashboard
    queue = owner_client.get("/admin/referrals/review").get_data(as_text=True)
    assert f'id="referral-{referral_id}"' in queue and "Joined from a device the referrer uses" in queue
    assert "1 other sign-up from the same device" not in queue  # the only one from it
    assert in_db(app, lambda s: ledger.balance_of(s, referrer, "points")) == 0  # held: nothing paid

    response = post_form(owner_client, f"/admin/referrals/{referral_id}/approve", {"note": "Brothers, checked"},
                         form_url="/admin/referrals/review", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="referral-{referral_id}"') and "Qualified" in fragment
    assert in_db(app, lambda s: ledger.balance_of(s, referrer, "points")) == 300
    assert in_db(app, lambda s: ledger.balance_of(s, friend, "points")) == 50
    [entry] = audits(app, "referral.approve")
    assert entry.reason == "Brothers, checked" and entry.after == {"status": "qualified"}

    again = post_form(owner_client, f"/admin/referrals/{referral_id}/approve", {},
                      form_url="/admin/referrals/review", headers={"HX-Request": "true"})
    assert again.status_code == 409 and "no longer held" in again.get_data(as_text=True)
    assert in_db(app, lambda s: ledger.balance_of(s, referrer, "points")) == 300
    assert len(audits(app, "referral.approve")) == 1
    assert "stat-held-referrals" not in owner_client.get("/admin/").get_data(as_text=True)


def test_rejecting_a_held_referral_never_pays_and_works_without_javascript(app, owner_client, make_member):
    referrer, friend, referral_id = held_referral(app, make_member)
    response = post_form(owner_client, f"/admin/referrals/{referral_id}/reject", {"note": "Same person"},
                         form_url="/admin/referrals/review")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/referrals/review"
    assert "Rejected: nobody is paid" in owner_client.get("/admin/referrals/review").get_data(as_text=True)
    assert in_db(app, lambda s: s.get(Referral, referral_id).status) == "rejected"
    paid = in_db(app, lambda s: s.scalar(select(func.count()).select_from(LedgerEntry)
                                         .where(LedgerEntry.source_type == "referral")))
    assert paid == 0
    [entry] = audits(app, "referral.reject")
    assert entry.reason == "Same person"
    late = post_form(owner_client, f"/admin/referrals/{referral_id}/approve", {}, form_url="/admin/referrals/review")
    assert late.status_code == 409 and "no longer held" in late.get_data(as_text=True)
    assert in_db(app, lambda s: ledger.balance_of(s, referrer, "points")) == 0
    assert post_form(owner_client, "/admin/referrals/999999/approve", {},
                     form_url="/admin/referrals/review").status_code == 404


def csv_rows(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_report_counts_the_funnel_and_exports_it(app, owner_client, make_member):
    referrer, _friend, referral_id = held_referral(app, make_member)
    post_form(owner_client, f"/admin/referrals/{referral_id}/approve", {}, form_url="/admin/referrals/review")
    html = owner_client.get("/admin/referrals/report?period=day").get_data(as_text=True)
    assert "Top referrers" in html and f'href="/admin/members/{referrer}"' in html

    response = owner_client.get("/admin/referrals/report.csv?period=day")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="referral-report-day-\d{8}\.csv"',
                        response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0] == ["period_start", "opens", "signups", "held", "qualified", "reversed", "points_paid",
                       "credit_paid", "signup_rate_percent", "qualified_rate_percent"]
    assert len(rows) == 1 + 14
    today = rows[-1]
    assert today[2:8] == ["1", "1", "1", "0", "350", "0"]  # 300 to the referrer, 50 to the friend
    assert today[9] == "100.00"


def test_the_list_filters_and_its_csv_is_audited(app, owner_client, make_member):
    _referrer, friend, referral_id = held_referral(app, make_member)
    assert "Held for review" in owner_client.get("/admin/referrals/list?status=held").get_data(as_text=True)
    assert "No referrals match." in owner_client.get("/admin/referrals/list?status=qualified").get_data(
        as_text=True)
    response = owner_client.get("/admin/referrals/list.csv?status=held&days=7")
    assert re.fullmatch(r'attachment; filename="referrals-held-\d{8}\.csv"', response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0][:3] == ["id", "status", "joined_at"] and len(rows) == 2
    assert rows[1][0] == str(referral_id) and rows[1][1] == "held" and rows[1][4] == str(friend)
    assert rows[1][12] == "self_device" and "@example.com" in rows[1][6]
    [entry] = audits(app, "referral.export")
    assert entry.after == {"status": "held", "days": "7"}


def test_the_referral_pages_speak_persian(app, owner_client, make_member):
    _referrer, _friend, _referral_id = held_referral(app, make_member)
    post_form(owner_client, "/admin/locale", {"locale": "fa", "next": "/admin/referrals"}, form_url="/admin/")
    expected = {"/admin/referrals": "به زبان ساده", "/admin/referrals/review": "از دستگاهی که معرف استفاده می‌کند",
                "/admin/referrals/report?period=month": "معرفان برتر", "/admin/referrals/list": "نگه‌داشته برای بررسی"}
    for url, words in expected.items():
        response = owner_client.get(url)
        assert response.status_code == 200 and words in response.get_data(as_text=True), url
