"""Staff sign-in, sign-out, languages and who may open or change what under /admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.web import csrf_token, post_form
from webapp.extensions import db
from webapp.models import ApiKey, AuditLog, ClubSetting, LedgerEntry, Staff


def sign_in(client, staff, next_url=None):
    url = "/admin/login" + (f"?next={next_url}" if next_url else "")
    data = {"email": staff.email, "password": staff.plain_password}
    if next_url:
        data["next"] = next_url
    return post_form(client, "/admin/login", data, form_url=url)


def count(app, model, *where):
    # a short app context of its own: holding one open across requests would
    # make Flask reuse it (and its `g`, with the signed-in user) for every request
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def get(app, model, id_):
    with app.app_context():
        return db.session.get(model, id_)


# -- signing in and out ------------------------------------------------------------


def test_admin_pages_send_anonymous_visitors_to_the_staff_login(client):
    response = client.get("/admin/members?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_staff_sign_in_then_sign_out(client, make_staff):
    owner = make_staff("owner")
    response = sign_in(client, owner)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and owner.email in page.get_data(as_text=True)

    response = post_form(client, "/admin/logout", {}, form_url="/admin/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302


def test_logout_without_csrf_token_is_refused(client, make_staff):
    sign_in(client, make_staff("owner"))
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/").status_code == 200


def test_unknown_account_and_wrong_password_get_the_same_answer(client, make_staff):
    owner = make_staff("owner", email="boss@staff.example.com")
    wrong = post_form(client, "/admin/login", {"email": owner.email, "password": "not-the-password"},
                      form_url="/admin/login")
    unknown = post_form(client, "/admin/login", {"email": "nobody@staff.example.com",
                                                "password": "not-the-password"},
                        form_url="/admin/login")
    assert wrong.status_code == unknown.status_code == 422
    def normalised(response, email):
        # CSRF tokens carry a timestamp, so they may differ between two requests
        html = re.sub(r'(value="|"X-CSRFToken": ")[\w.-]+', r"\1TOKEN", response.get_data(as_text=True))
        return html.replace(email, "EMAIL")

    body_wrong = normalised(wrong, owner.email)
    body_unknown = normalised(unknown, "nobody@staff.example.com")
    assert body_wrong == body_unknown
    assert "Wrong e-mail or password." in body_wrong
    assert client.get("/admin/").status_code == 302


def test_next_is_followed_only_when_it_stays_on_the_site(client, make_staff):
    owner = make_staff("owner")
    response = sign_in(client, owner, next_url="/admin/members")
    assert response.headers["Location"] == "/admin/members"
    post_form(client, "/admin/logout", {}, form_url="/admin/")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = sign_in(client, owner, next_url=evil)
        assert response.headers["Location"] == "/admin/", evil
        post_form(client, "/admin/logout", {}, form_url="/admin/")


def test_staff_login_is_rate_limited(app, client, make_staff):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    owner = make_staff("owner")
    token = csrf_token(client, "/admin/login")
    for _ in range(3):
        response = client.post("/admin/login", data={"csrf_token": token, "email": owner.email,
                                                     "password": "wrong-password"})
        assert response.status_code == 422
    blocked = client.post("/admin/login", data={"csrf_token": token, "email": owner.email,
                                                "password": owner.plain_password})
    assert blocked.status_code == 429
    assert client.get("/admin/").status_code == 302  # the right password did not get through


def test_deactivated_staff_cannot_sign_in_and_lose_their_session(app, client, make_staff):
    owner, operator = make_staff("owner"), make_staff("operator")
    other = app.test_client()
    sign_in(other, operator)
    assert other.get("/admin/members").status_code == 200

    sign_in(client, owner)
    response = post_form(client, f"/admin/staff/{operator.id}/deactivate", {}, form_url="/admin/staff")
    assert response.status_code == 302
    assert other.get("/admin/members").status_code == 302  # the old session is gone
    again = sign_in(app.test_client(), operator)
    assert again.status_code == 422
    assert count(app, AuditLog, AuditLog.action == "staff.deactivate") == 1


def test_owner_cannot_deactivate_themselves(app, client, make_staff):
    owner = make_staff("owner")
    sign_in(client, owner)
    post_form(client, f"/admin/staff/{owner.id}/deactivate", {}, form_url="/admin/staff")
    assert get(app, Staff, owner.id).active
    assert "cannot deactivate your own account" in client.get("/admin/staff").get_data(as_text=True)


def test_a_signed_in_member_is_sent_to_the_staff_login(client, make_member):
    member = make_member(email="m@example.com", password="member-password-1")
    # a member session, made the way the member UI makes it (Flask-Login's session keys)
    with client.session_transaction() as s:
        s["_user_id"] = member.get_id()
        s["_fresh"] = True
    for url in ("/admin/", "/admin/members", f"/admin/members/{member.id}", "/admin/settings"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/admin/login")
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "signed in as a member" in page.get_data(as_text=True)


# -- role matrix -----------------------------------------------------------------------

ROLES = ("owner", "marketer", "operator", "auditor")
PAGES = {
    "/admin/": ROLES,
    "/admin/members": ROLES,
    "/admin/members/{member}": ROLES,
    "/admin/audit": ("owner", "auditor"),
    "/admin/settings": ("owner",),
    "/admin/settings/example?earn_points=1&earn_per_amount=10&points_expiry_days=0": ("owner",),
    "/admin/api-keys": ("owner",),
    "/admin/staff": ("owner",),
}
WRITES = {
    "/admin/members/{member}/adjust-points": (("owner", "operator"), {"amount": "5", "reason": "goodwill",
                                                                    "token": "t-{role}"}),
    "/admin/members/{member}/grant-credit": (("owner", "operator"), {"amount": "500", "reason": "apology",
                                                                    "token": "t-{role}"}),
    "/admin/settings": (("owner",), {"earn_points": "2", "earn_per_amount": "1000",
                                     "points_expiry_days": "30", "earn_enabled": "y"}),
    "/admin/api-keys": (("owner",), {"name": "till"}),
    "/admin/api-keys/{key}/revoke": (("owner",), {}),
    "/admin/staff": (("owner",), {"email": "new@staff.example.com", "role": "auditor",
                                  "password": "long-enough-1", "locale": ""}),
    "/admin/staff/{staff}/deactivate": (("owner",), {}),
}


@pytest.fixture
def world(app, make_member, make_staff):
    from webapp.extensions import db
    from webapp.services.members import audit
    from webapp.services.members.staff import create_api_key

    member = make_member(points=100)
    colleague = make_staff("marketer")
    with app.app_context():
        key, _plain = create_api_key(db.session, name="till", actor=audit.CLI, now=datetime.now(UTC))
        db.session.commit()
        key_id = key.id
    return {"member": member.id, "staff": colleague.id, "key": key_id}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(PAGES))
def test_each_role_opens_only_its_pages(client, make_staff, world, role, url):
    sign_in(client, make_staff(role))
    response = client.get(url.format(**world))
    assert response.status_code == (200 if role in PAGES[url] else 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(WRITES))
def test_each_role_changes_only_what_it_may(app, client, make_staff, world, role, url):
    allowed, data = WRITES[url]
    sign_in(client, make_staff(role))
    audits_before = count(app, AuditLog)
    data = {k: v.format(role=role) for k, v in data.items()}
    response = post_form(client, url.format(**world), data, form_url="/admin/")
    if role in allowed:
        assert response.status_code in (200, 302)
        assert count(app, AuditLog) == audits_before + 1  # every write is audited
    else:
        assert response.status_code == 403
        assert count(app, AuditLog) == audits_before


def test_an_auditor_can_read_but_changes_nothing(app, client, make_staff, world):
    sign_in(client, make_staff("auditor"))
    assert client.get(f"/admin/members/{world['member']}").status_code == 200
    page = client.get(f"/admin/members/{world['member']}").get_data(as_text=True)
    assert "adjust-points" not in page and "grant-credit" not in page
    entries, keys = count(app, LedgerEntry), count(app, ApiKey, ApiKey.revoked_at.is_(None))
    for url, (_allowed, data) in WRITES.items():
        data = {k: v.format(role="auditor") for k, v in data.items()}
        assert post_form(client, url.format(**world), data, form_url="/admin/").status_code == 403
    assert count(app, LedgerEntry) == entries
    assert count(app, ApiKey, ApiKey.revoked_at.is_(None)) == keys
    assert count(app, ClubSetting) == 0


def test_navigation_shows_only_what_the_role_may_open(client, make_staff):
    sign_in(client, make_staff("operator"))
    nav = re.search(r'<nav class="admin-nav".*?</nav>', client.get("/admin/").get_data(as_text=True), re.S)
    links = set(re.findall(r'href="([^"]+)"', nav.group(0)))
    # operators pay marketers out; referrals are read with "view" (support answers
    # "why was my friend not counted?"), answer feedback and retry failed deliveries
    assert links == {"/admin/", "/admin/members", "/admin/referrals", "/admin/marketers", "/admin/outbox",
                     "/admin/feedback"}


# -- languages ---------------------------------------------------------------------------


def test_admin_speaks_persian_by_default_with_persian_digits(app, client, make_staff, make_member):
    app.config["VAFA_LOCALE"] = "fa"
    make_member(points=1234)
    sign_in(client, make_staff("owner"))
    html = client.get("/admin/").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "پیشخوان" in html  # "Dashboard"
    assert "۱٬۲۳۴" in html  # points outstanding in Persian digits
    assert "Dashboard" not in html


def test_staff_language_choice_is_kept_on_their_account(app, client, make_staff):
    app.config["VAFA_LOCALE"] = "fa"
    owner = make_staff("owner")
    sign_in(client, owner)
    response = post_form(client, "/admin/locale", {"locale": "en", "next": "/admin/members"},
                         form_url="/admin/")
    assert response.headers["Location"] == "/admin/members"
    assert get(app, Staff, owner.id).locale == "en"
    fresh = app.test_client()  # another browser, no cookie: the account decides
    sign_in(fresh, owner)
    assert '<html lang="en" dir="ltr">' in fresh.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_every_admin_page_renders_in_both_languages_with_nothing_from_other_hosts(
    app, client, make_staff, world, locale
):
    app.config["VAFA_LOCALE"] = locale
    sign_in(client, make_staff("owner"))
    direction = "rtl" if locale == "fa" else "ltr"
    for url in [u for u in PAGES if "example" not in u]:
        html = client.get(url.format(**world)).get_data(as_text=True)
        assert f'<html lang="{locale}" dir="{direction}">' in html, url
        assert "/static/css/admin.css" in html, url
        assert not re.search(r'(src|href|action)="(https?:)?//', html), url
