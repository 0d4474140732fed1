"""The owner's wallet settings: points-to-credit conversion rate, minimum, daily
cap and the on/off switch (/admin/wallet)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.helpers.web import in_db, post_form
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog
from webapp.services.ledger import wallet

ROLES = ("owner", "marketer", "operator", "auditor")
GOOD = {"enabled": "y", "points_per_step": "500", "credit_per_step": "25000", "min_points": "1000",
        "daily_cap_points": "5000"}
EXAMPLE = "/admin/wallet/example"


def wallet_audits(app):
    return in_db(app, lambda s: list(s.scalars(
        select(AuditLog).where(AuditLog.action == "settings.wallet").order_by(AuditLog.id))))


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_opens_and_changes_the_wallet_settings(app, client, make_staff, role):
    sign_in(client, make_staff(role))
    expected = 200 if role == "owner" else 403
    assert client.get("/admin/wallet").status_code == expected
    assert client.get(EXAMPLE, query_string=GOOD).status_code == expected
    audits = in_db(app, lambda s: s.scalar(select(func.count()).select_from(AuditLog)))
    response = post_form(client, "/admin/wallet", GOOD, form_url="/admin/")
    assert response.status_code == (302 if role == "owner" else 403)
    after = in_db(app, lambda s: s.scalar(select(func.count()).select_from(AuditLog)))
    assert after == audits + (1 if role == "owner" else 0)
    nav = re.search(r'<nav class="admin-nav".*?</nav>', client.get("/admin/").get_data(as_text=True), re.S)
    assert ('href="/admin/wallet"' in nav.group(0)) == (role == "owner")


def test_saved_settings_are_audited_with_before_and_after_and_used(app, owner_client):
    response = post_form(owner_client, "/admin/wallet", GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/wallet"
    saved = in_db(app, wallet.load_wallet_settings)
    assert saved == wallet.WalletSettings(enabled=True, points_per_step=500, credit_per_step=25_000,
                                          min_points=1000, daily_cap_points=5000)
    [row] = wallet_audits(app)
    assert row.before == {"enabled": False, "points_per_step": 100, "credit_per_step": 10_000,
                          "min_points": 100, "daily_cap_points": 0}
    assert row.after == {"enabled": True, "points_per_step": 500, "credit_per_step": 25_000,
                         "min_points": 1000, "daily_cap_points": 5000}
    assert row.staff_id is not None and row.object_id == "wallet"
    html = owner_client.get("/admin/wallet").get_data(as_text=True)
    assert "Wallet settings saved." in html and 'value="25000"' in html


def test_switching_conversions_off_keeps_the_rate(app, owner_client):
    post_form(owner_client, "/admin/wallet", GOOD)
    post_form(owner_client, "/admin/wallet", {k: v for k, v in GOOD.items() if k != "enabled"})
    saved = in_db(app, wallet.load_wallet_settings)
    assert saved.enabled is False and saved.points_per_step == 500
    assert [r.after["enabled"] for r in wallet_audits(app)] == [True, False]


@pytest.mark.parametrize("field,value", [
    ("points_per_step", "0"), ("points_per_step", "abc"), ("points_per_step", ""),
    ("credit_per_step", "0"), ("credit_per_step", "1.5"), ("credit_per_step", "99999999999999"),
    ("min_points", "-1"), ("min_points", "0"),
    ("min_points", "1200"),  # not a whole number of 500-point steps
    ("daily_cap_points", "-5"),
    ("daily_cap_points", "500"),  # a cap below the minimum would forbid every conversion
])
def test_invalid_settings_are_form_errors_and_nothing_is_saved(app, owner_client, field, value):
    response = post_form(owner_client, "/admin/wallet", {**GOOD, field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
    assert wallet_audits(app) == []
    assert in_db(app, wallet.load_wallet_settings) == wallet.WalletSettings()


def test_persian_digits_and_separators_are_accepted(app, owner_client):
    response = post_form(owner_client, "/admin/wallet", {
        **GOOD, "points_per_step": "۵۰۰", "credit_per_step": "۲۵٬۰۰۰", "min_points": "1,000"})
    assert response.status_code == 302
    saved = in_db(app, wallet.load_wallet_settings)
    assert (saved.points_per_step, saved.credit_per_step, saved.min_points) == (500, 25_000, 1000)


def test_page_shows_a_worked_example(owner_client):
    html = owner_client.get("/admin/wallet").get_data(as_text=True)
    # defaults: 100 points give 10,000 rials; the example converts 1,000 points
    assert re.search(r'<output id="wallet-example"[^>]*>1,000 points → IRR\xa0100,000', html)
    assert 'hx-get="/admin/wallet/example"' in html and "switched off" in html


def test_live_example_follows_the_fields_being_typed(owner_client):
    response = owner_client.get(EXAMPLE, query_string={**GOOD, "example_points": "۲۷۵۰"},
                                headers={"HX-Request": "true"})
    html = response.get_data(as_text=True).strip()
    assert response.status_code == 200
    assert html.startswith('<output id="wallet-example"') and html.endswith("</output>")
    # 2,750 points: 5 whole steps of 500 → 2,500 points → 125,000 rials
    assert "2,500 points → IRR\xa0125,000" in html and "Only whole steps convert" in html
    assert "at most 5,000 points a day" in html and "<html" not in html


@pytest.mark.parametrize("query", [
    {**GOOD, "points_per_step": "0"}, {**GOOD, "min_points": "1200"}, {**GOOD, "credit_per_step": "x"},
    {"points_per_step": "100"}, {**GOOD, "example_points": "99999999999"},
])
def test_live_example_of_invalid_settings_asks_to_fix_them(owner_client, query):
    response = owner_client.get(EXAMPLE, query_string=query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Fix the fields above" in response.get_data(as_text=True)


def test_example_below_the_minimum_says_so(owner_client):
    html = owner_client.get(EXAMPLE, query_string={**GOOD, "example_points": "500"}).get_data(as_text=True)
    assert "Below the minimum of 1,000 points" in html


def test_preview_button_shows_the_example_without_saving(app, owner_client):
    response = post_form(owner_client, "/admin/wallet", {**GOOD, "example_points": "3000", "preview": "1"})
    assert response.status_code == 200
    assert "3,000 points → IRR\xa0150,000" in response.get_data(as_text=True)
    assert wallet_audits(app) == []
    assert in_db(app, wallet.load_wallet_settings) == wallet.WalletSettings()


def test_saving_the_same_settings_twice_audits_once(app, owner_client):
    post_form(owner_client, "/admin/wallet", GOOD)
    post_form(owner_client, "/admin/wallet", GOOD)
    assert len(wallet_audits(app)) == 1


def test_wallet_page_in_persian_is_rtl_with_persian_digits_and_phone_friendly(app, owner_client):
    app.config["VAFA_LOCALE"] = "fa"
    owner = owner_client  # signed in before the switch; the club default decides
    html = owner.get("/admin/wallet").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "۱٬۰۰۰ امتیاز ← ۱۰۰٬۰۰۰ ریال" in html  # the example, in Persian words and digits
    assert "کیف پول" in html and "Wallet" not in html
    assert 'name="viewport"' in html and "width=device-width" in html
    # nothing sized in pixels inline, nothing from other hosts
    assert "style=" not in html and not re.search(r'\swidth="\d{3,}', html)
    assert not re.search(r'(src|href|action)="(https?:)?//', html)
