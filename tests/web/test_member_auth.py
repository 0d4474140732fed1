"""Joining, logging in and out: the member account flows, with CSRF on."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from tests.helpers.web import csrf_token, post_form

PASSWORD = "a-good-password-1"


def member_by(app, **where):
    from webapp.extensions import db
    from webapp.models import Member

    with app.app_context():
        column, value = next(iter(where.items()))
        member = db.session.scalar(select(Member).where(getattr(Member, column) == value))
        if member is not None:
            db.session.expunge(member)
        return member


def login(client, login_value, password=PASSWORD, next_url=None):
    url = "/login" if next_url is None else f"/login?next={quote(next_url, safe='')}"
    return post_form(client, url, {"login": login_value, "password": password})


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    return match.group(1) if match else ""


# -- join ----------------------------------------------------------------------


def test_join_with_email_creates_the_member_and_signs_them_in(app, client):
    response = post_form(client, "/join", {
        "email": "  Nika@Example.COM ", "mobile": "", "password": PASSWORD, "display_name": "Nika",
    })
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/me"
    member = member_by(app, email="nika@example.com")
    assert member is not None and member.display_name == "Nika" and member.mobile is None
    dashboard = client.get("/me")
    assert dashboard.status_code == 200
    assert "Nika" in dashboard.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["۰۹۱۲ ۳۴۵ ۶۷۸۹", "٠٩١٢-٣٤٥-٦٧٨٩", "+98 912 345 6789"])
def test_join_with_a_mobile_in_any_digits_stores_it_normalised(app, client, typed):
    response = post_form(client, "/join", {
        "email": "", "mobile": typed, "password": PASSWORD, "display_name": "",
    })
    assert response.status_code == 302
    member = member_by(app, mobile="+989123456789")
    assert member is not None and member.email is None
    # and the member can log in with the number typed the usual way
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    assert login(client, "09123456789").status_code == 302


def test_join_refuses_an_account_that_already_exists(make_member, client):
    make_member(mobile="09121112233", password=PASSWORD)
    response = post_form(client, "/join", {
        "email": "", "mobile": "۰۹۱۲۱۱۱۲۲۳۳", "password": PASSWORD, "display_name": "",
    })
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302  # not signed in


def test_join_refuses_a_weak_password_on_the_password_field(app, client):
    response = post_form(client, "/join", {
        "email": "weak@example.com", "mobile": "", "password": "short", "display_name": "",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "8 to 128 characters" in field_error(html, "password")
    assert member_by(app, email="weak@example.com") is None


def test_join_needs_an_email_or_a_mobile(client):
    response = post_form(client, "/join", {
        "email": "", "mobile": "", "password": PASSWORD, "display_name": "Nobody",
    })
    assert response.status_code == 422
    assert "e-mail address or a mobile number" in field_error(response.get_data(as_text=True), "email")


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("mobile", "12345", "not a valid mobile number"),
    ("mobile", "021 8888 7777", "not a valid mobile number"),  # a Tehran landline
    ("email", "not-an-address", "not a valid e-mail address"),
])
def test_join_shows_invalid_identifiers_on_their_field(client, field, value, expected):
    data = {"email": "", "mobile": "", "password": PASSWORD, "display_name": ""}
    data[field] = value
    response = post_form(client, "/join", data)
    assert response.status_code == 422
    assert expected in field_error(response.get_data(as_text=True), field)


def test_join_errors_are_in_persian_for_persian_visitors(client, make_member):
    make_member(email="taken@example.com")
    client.set_cookie("vafa_locale", "fa")
    response = post_form(client, "/join", {
        "email": "taken@example.com", "mobile": "", "password": PASSWORD, "display_name": "",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "حسابی با این ایمیل یا شماره موبایل از قبل وجود دارد" in html
    assert "already exists" not in html


# -- login / logout ----------------------------------------------------------------


def test_login_with_email_or_mobile_then_logout(make_member, client):
    make_member(email="sara@example.com", mobile="09121234567", password=PASSWORD)
    for login_value in ("SARA@example.com", "۰۹۱۲۱۲۳۴۵۶۷"):
        response = login(client, login_value)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/me"
        assert client.get("/me").status_code == 200

        confirm = client.get("/logout")  # a GET only asks
        assert confirm.status_code == 200
        assert 'action="/logout"' in confirm.get_data(as_text=True)
        assert client.get("/me").status_code == 200

        out = post_form(client, "/logout", {})
        assert out.status_code == 302
        assert client.get("/me").status_code == 302


def _normalised(html: str, *typed: str) -> str:
    html = re.sub(r'value="[^"]*"', 'value=""', html)  # CSRF tokens and echoed input
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    for text in typed:
        html = html.replace(text, "")
    return html


def test_wrong_password_and_unknown_account_get_the_same_answer(make_member, client):
    make_member(email="known@example.com", password=PASSWORD)
    wrong = login(client, "known@example.com", "not-the-password")
    unknown = login(client, "nobody@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 422
    assert "do not match" in wrong.get_data(as_text=True)
    assert _normalised(wrong.get_data(as_text=True), "known@example.com") == _normalised(
        unknown.get_data(as_text=True), "nobody@example.com"
    )


def test_a_suspended_member_cannot_log_in_and_is_told_nothing_more(app, make_member, client):
    from webapp.extensions import db
    from webapp.models import Member

    member = make_member(email="gone@example.com", password=PASSWORD)
    with app.app_context():
        db.session.get(Member, member.id).status = "suspended"
        db.session.commit()
    response = login(client, "gone@example.com")
    assert response.status_code == 422
    assert "do not match" in response.get_data(as_text=True)


def test_login_follows_a_local_next(make_member, client):
    make_member(email="next@example.com", password=PASSWORD)
    response = login(client, "next@example.com", next_url="/me/settings")
    assert response.headers["Location"].endswith("/me/settings")


@pytest.mark.parametrize("evil", [
    "//evil.example", "https://evil.example", "https://evil.example/me", "/\\evil.example",
    "http:/evil.example", "javascript:alert(1)",
])
def test_login_never_redirects_to_another_site(make_member, client, evil):
    make_member(email="safe@example.com", password=PASSWORD)
    response = login(client, "safe@example.com", next_url=evil)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/me"


def test_member_pages_send_anonymous_visitors_to_login_and_back(make_member, client):
    make_member(email="back@example.com", password=PASSWORD)
    response = client.get("/me/activity")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    login_page = response.headers["Location"]
    after = post_form(client, login_page, {"login": "back@example.com", "password": PASSWORD})
    assert after.headers["Location"].endswith("/me/activity")


def test_logout_everywhere_ends_other_sessions(app, make_member):
    make_member(email="two@example.com", password=PASSWORD)
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "two@example.com")
    login(laptop, "two@example.com")
    assert 'name="everywhere"' in phone.get("/logout").get_data(as_text=True)
    post_form(phone, "/logout", {"everywhere": "y"})
    assert laptop.get("/me").status_code == 302


# -- CSRF and rate limits ------------------------------------------------------------


@pytest.mark.parametrize(("url", "data"), [
    ("/login", {"login": "x@example.com", "password": PASSWORD}),
    ("/join", {"email": "x@example.com", "password": PASSWORD}),
    ("/logout", {}),
    ("/locale", {"locale": "fa", "next": "/"}),
])
def test_forms_without_a_csrf_token_are_rejected(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_settings_without_a_csrf_token_change_nothing(app, make_member, client):
    member = make_member(email="csrf@example.com", password=PASSWORD, display_name="Before")
    login(client, "csrf@example.com")
    response = client.post("/me/settings", data={"display_name": "After", "locale": "en"})
    assert response.status_code == 400
    assert member_by(app, id=member.id).display_name == "Before"


def test_too_many_login_attempts_are_refused_with_429(app, make_member, client):
    make_member(email="target@example.com", password=PASSWORD)
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert login(client, "target@example.com", "guess-guess").status_code == 422
    blocked = login(client, "target@example.com", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only POSTs are limited


def test_too_many_joins_are_refused_with_429(app, client):
    app.config["JOIN_RATE_LIMIT"] = "2 per hour"
    for n in range(2):
        post_form(client, "/join", {"email": f"j{n}@example.com", "password": PASSWORD})
        post_form(client, "/logout", {})
    response = post_form(client, "/join", {"email": "j9@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert member_by(app, email="j9@example.com") is None
