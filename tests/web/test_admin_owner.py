"""Owner pages: the base earn rule, API keys, staff accounts, and the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.extensions import db
from webapp.models import ApiKey, AuditLog, Staff
from webapp.services.members.staff import verify_api_key


def audits(app, action):
    return in_db(app, lambda s: list(s.scalars(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))))


SETTINGS = {"earn_points": "3", "earn_per_amount": "50000", "points_expiry_days": "90", "earn_enabled": "y"}


# -- settings ------------------------------------------------------------------------


def test_settings_change_is_audited_and_used_for_purchases(app, owner_client, make_member, now):
    from webapp.services.ledger.purchases import record_purchase

    response = post_form(owner_client, "/admin/settings", SETTINGS)
    assert response.status_code == 302
    rows = audits(app, "settings.earn")
    assert len(rows) == 1
    assert rows[0].before["earn_points"] == 1 and rows[0].after == {
        "earn_points": 3, "earn_per_amount": 50_000, "points_expiry_days": 90, "earn_enabled": True}
    assert rows[0].staff_id is not None

    member = make_member()

    def buy(s):
        purchase, balance = record_purchase(s, member_id=member.id, amount=230_000, currency="IRR",
                                            occurred_at=now, now=now)
        s.commit()
        return purchase.points_earned, balance

    assert in_db(app, buy) == (12, 12)  # 4 full steps of 50,000 × 3 points
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    assert 'value="50000"' in html and "Settings saved." in html


def test_saving_the_same_settings_again_adds_no_audit_row(app, owner_client):
    post_form(owner_client, "/admin/settings", SETTINGS)
    post_form(owner_client, "/admin/settings", SETTINGS)
    assert len(audits(app, "settings.earn")) == 1


@pytest.mark.parametrize("field,value", [
    ("earn_points", "-1"), ("earn_points", "abc"), ("earn_per_amount", "0"),
    ("points_expiry_days", "4000"), ("earn_per_amount", ""),
])
def test_invalid_settings_are_form_errors_and_nothing_is_saved(app, owner_client, field, value):
    response = post_form(owner_client, "/admin/settings", {**SETTINGS, field: value})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert audits(app, "settings.earn") == []
    from webapp.services.settings import EarnSettings, load_earn_settings

    assert in_db(app, load_earn_settings) == EarnSettings()


def test_settings_page_shows_a_worked_example(owner_client):
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    # defaults: 1 point per 10,000 rials; example purchase 1,000,000 rials
    assert "A purchase of" in html and "earns 100 points" in html
    assert 'hx-get="/admin/settings/example"' in html


def test_live_example_follows_the_fields_being_typed(owner_client):
    response = owner_client.get("/admin/settings/example", query_string={
        "earn_points": "۲", "earn_per_amount": "1000", "points_expiry_days": "0",
        "earn_enabled": "y", "example_amount": "5500"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.strip().startswith("<output") and "earns 10 points" in html
    bad = owner_client.get("/admin/settings/example?earn_points=x&earn_per_amount=0")
    assert bad.status_code == 200 and "Fix the fields above" in bad.get_data(as_text=True)


def test_preview_button_shows_the_example_without_saving(app, owner_client):
    response = post_form(owner_client, "/admin/settings",
                         {**SETTINGS, "example_amount": "100000", "preview": "1"})
    assert response.status_code == 200
    assert "earns 6 points" in response.get_data(as_text=True)
    assert audits(app, "settings.earn") == []


# -- API keys ----------------------------------------------------------------------------


def test_api_key_is_shown_once_then_only_its_prefix(app, owner_client):
    response = post_form(owner_client, "/admin/api-keys", {"name": "Branch till"}, form_url="/admin/api-keys")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    plain = re.search(r'value="(vafa_[0-9a-f]{8}_[A-Za-z0-9_-]+)"', response.get_data(as_text=True)).group(1)

    key = in_db(app, lambda s: verify_api_key(s, plain))
    assert key is not None and key.name == "Branch till"
    secret = plain.split("_", 2)[2]
    listing = owner_client.get("/admin/api-keys").get_data(as_text=True)
    assert f"vafa_{key.prefix}_" in listing and secret not in listing
    assert in_db(app, lambda s: verify_api_key(s, plain[:-1] + ("A" if plain[-1] != "A" else "B"))) is None
    assert len(audits(app, "api_key.create")) == 1


def test_api_key_needs_a_name(app, owner_client):
    response = post_form(owner_client, "/admin/api-keys", {"name": "  "}, form_url="/admin/api-keys")
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)
    assert in_db(app, lambda s: s.scalars(select(ApiKey)).all()) == []


def test_revoking_a_key_stops_it_working_and_is_audited(app, owner_client, api_key):
    key = in_db(app, lambda s: verify_api_key(s, api_key))
    response = post_form(owner_client, f"/admin/api-keys/{key.id}/revoke", {}, form_url="/admin/api-keys")
    assert response.status_code == 302
    assert in_db(app, lambda s: verify_api_key(s, api_key)) is None
    assert len(audits(app, "api_key.revoke")) == 1
    listing = owner_client.get("/admin/api-keys").get_data(as_text=True)
    assert "revoked" in listing and f"/admin/api-keys/{key.id}/revoke" not in listing
    missing = post_form(owner_client, "/admin/api-keys/99999/revoke", {}, form_url="/admin/api-keys")
    assert missing.status_code == 404


# -- staff -------------------------------------------------------------------------------


def test_owner_creates_a_staff_account_who_can_sign_in(app, owner_client):
    response = post_form(owner_client, "/admin/staff", {
        "email": "Nika@Staff.Example.com", "display_name": "Nika", "role": "auditor",
        "password": "a-long-password", "locale": "fa"})
    assert response.status_code == 302
    person = in_db(app, lambda s: s.scalar(select(Staff).where(Staff.email == "nika@staff.example.com")))
    assert person.role == "auditor" and person.locale == "fa"
    assert audits(app, "staff.create")[-1].after == {"email": "nika@staff.example.com", "role": "auditor"}
    other = app.test_client()
    post_form(other, "/admin/login", {"email": "nika@staff.example.com", "password": "a-long-password"},
              form_url="/admin/login")
    assert other.get("/admin/audit").status_code == 200
    assert other.get("/admin/settings").status_code == 403


@pytest.mark.parametrize("data,field", [
    ({"email": "not-an-email", "password": "a-long-password"}, "email"),
    ({"email": "x@staff.example.com", "password": "short"}, "password"),
    ({"email": "x@staff.example.com", "password": "a-long-password", "role": "emperor"}, "role"),
])
def test_bad_staff_forms_are_form_errors(app, owner_client, data, field):
    before = in_db(app, lambda s: len(s.scalars(select(Staff)).all()))
    response = post_form(owner_client, "/admin/staff", {"role": "operator", "locale": "", **data})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert in_db(app, lambda s: len(s.scalars(select(Staff)).all())) == before


def test_duplicate_staff_email_is_a_form_error(app, owner_client, make_staff):
    existing = make_staff("marketer")
    response = post_form(owner_client, "/admin/staff", {
        "email": existing.email, "role": "operator", "password": "a-long-password", "locale": ""})
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


# -- audit log ---------------------------------------------------------------------------


def test_audit_log_filters_by_action_and_staff(app, client, make_staff, make_member):
    owner, auditor = make_staff("owner"), make_staff("auditor")
    member = make_member(points=50)
    sign_in(client, owner)
    post_form(client, "/admin/settings", SETTINGS)
    html = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    post_form(client, f"/admin/members/{member.id}/adjust-points",
              {"amount": "-20", "reason": "Wrong scan", "token": token}, form_url="/admin/")

    reader = app.test_client()
    sign_in(reader, auditor)
    everything = reader.get("/admin/audit").get_data(as_text=True)
    assert "settings.earn" in everything and "member.adjust_points" in everything
    only_adjust = reader.get("/admin/audit?action=member.adjust_points").get_data(as_text=True)
    assert "Wrong scan" in only_adjust and "<code>settings.earn</code>" not in only_adjust
    assert ">50</span> → <span>30<" in only_adjust  # before → after
    by_auditor = reader.get(f"/admin/audit?staff={auditor.id}").get_data(as_text=True)
    # the auditor only signed in: that is all their filter shows
    assert "<code>staff.login</code>" in by_auditor and "<code>settings.earn</code>" not in by_auditor
    assert reader.get("/admin/audit?staff=abc&page=-4").status_code == 200
    partial = reader.get("/admin/audit?page=1", headers={"HX-Request": "true", "HX-Target": "audit-results"})
    assert partial.get_data(as_text=True).strip().startswith('<section id="audit-results"')


def test_audit_log_is_paginated(app, client, make_staff):
    from webapp.services.members import audit

    def fill(s):
        for n in range(55):
            audit.record(s, audit.CLI, f"test.action{n:02d}", "thing", n, now=datetime.now(UTC))
        s.commit()

    in_db(app, fill)
    sign_in(client, make_staff("auditor"))
    def results(url):  # the table, not the filter's list of every action
        html = client.get(url).get_data(as_text=True)
        return html[html.index('id="audit-results"'):]

    first = results("/admin/audit")
    assert "test.action54" in first and "test.action04" not in first and 'rel="next"' in first
    second = results("/admin/audit?page=2")
    assert "test.action04" in second and "test.action54" not in second


def test_staff_sign_ins_and_failed_attempts_are_audited(app, client, make_staff):
    from sqlalchemy import select

    from webapp.models import AuditLog

    owner = make_staff("owner")
    post_form(client, "/admin/login", {"email": owner.email, "password": "wrong-password-9"})
    post_form(client, "/admin/login", {"email": "nobody@staff.example.com", "password": "x" * 10})
    sign_in(client, owner)
    with app.app_context():
        rows = db.session.execute(
            select(AuditLog.action, AuditLog.staff_id, AuditLog.ip).order_by(AuditLog.id)
        ).all()
    logins = [(action, staff_id) for action, staff_id, _ip in rows if action.startswith("staff.login")]
    assert logins == [("staff.login_failed", owner.id), ("staff.login", owner.id)]
    assert all(ip for action, _s, ip in rows if action.startswith("staff.login"))
