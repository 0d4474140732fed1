"""Persian (RTL, Persian digits, Jalali dates) and English, chosen by the
visitor's cookie or the member's saved setting."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.helpers.web import log_in, post_form

PASSWORD = "a-good-password-1"


def saved_member(app, member_id):
    from webapp.extensions import db
    from webapp.models import Member

    with app.app_context():
        return db.session.scalar(select(Member).where(Member.id == member_id))


def html_dir(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="(\w+)" dir="(\w+)"', html)
    assert match, "no <html lang dir>"
    return match.group(1), match.group(2)


def test_default_locale_comes_from_the_club_setting(app):
    app.config["VAFA_LOCALE"] = "fa"
    html = app.test_client().get("/").get_data(as_text=True)
    assert html_dir(html) == ("fa", "rtl")
    assert "عضویت در باشگاه" in html


def test_an_anonymous_visitor_switches_language_with_a_cookie(client):
    assert html_dir(client.get("/login").get_data(as_text=True)) == ("en", "ltr")

    response = post_form(client, "/locale", {"locale": "fa", "next": "/login"}, form_url="/login")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    cookie = response.headers.get("Set-Cookie", "")
    assert "vafa_locale=fa" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    html = client.get("/login").get_data(as_text=True)
    assert html_dir(html) == ("fa", "rtl")
    assert "ورود" in html and ">Log in<" not in html

    post_form(client, "/locale", {"locale": "en", "next": "/login"}, form_url="/login")
    assert html_dir(client.get("/login").get_data(as_text=True)) == ("en", "ltr")


def test_locale_switch_refuses_unknown_languages_and_foreign_next(client):
    assert post_form(client, "/locale", {"locale": "de", "next": "/"}, form_url="/").status_code == 400
    response = post_form(client, "/locale", {"locale": "fa", "next": "https://evil.example/"},
                         form_url="/")
    assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
    assert urlsplit(response.headers["Location"]).path == "/"


def test_the_locale_switch_persists_on_the_member(app, make_member, client):
    member = make_member(email="lang@example.com", password=PASSWORD, points=1234)
    log_in(client, "lang@example.com")
    post_form(client, "/locale", {"locale": "fa", "next": "/me"}, form_url="/me")
    assert saved_member(app, member.id).locale == "fa"

    html = client.get("/me").get_data(as_text=True)
    assert html_dir(html) == ("fa", "rtl")
    assert "۱٬۲۳۴" in html and "1,234" not in html  # Persian digits and separator

    # another browser, with no cookie, still gets the member's language after login
    other = app.test_client()
    log_in(other, "lang@example.com")
    assert html_dir(other.get("/me").get_data(as_text=True)) == ("fa", "rtl")

    post_form(client, "/locale", {"locale": "en", "next": "/me"}, form_url="/me")
    assert saved_member(app, member.id).locale == "en"
    html = client.get("/me").get_data(as_text=True)
    assert html_dir(html) == ("en", "ltr") and "1,234" in html


def test_a_members_saved_language_beats_the_browser_cookie(app, make_member, client):
    make_member(email="saved@example.com", password=PASSWORD, locale="fa")
    client.set_cookie("vafa_locale", "en")
    log_in(client, "saved@example.com")
    assert html_dir(client.get("/me").get_data(as_text=True)) == ("fa", "rtl")


def test_settings_save_language_consents_and_name(app, make_member, client):
    member = make_member(email="set@example.com", password=PASSWORD, display_name="Old")
    log_in(client, "set@example.com")
    page = client.get("/me/settings").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="en"', page)  # the language in use is chosen

    response = post_form(client, "/me/settings", {
        "display_name": "  New Name ", "locale": "fa", "consent_email": "y",
    })
    assert response.status_code == 302
    saved = saved_member(app, member.id)
    assert (saved.display_name, saved.locale, saved.consent_email, saved.consent_sms) == (
        "New Name", "fa", True, False)
    assert "vafa_locale=fa" in response.headers.get("Set-Cookie", "")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "تنظیمات شما ذخیره شد" in html  # the "saved" note is already in the new language


def test_settings_refuse_an_unknown_language(app, make_member, client):
    member = make_member(email="bad@example.com", password=PASSWORD)
    log_in(client, "bad@example.com")
    response = post_form(client, "/me/settings", {"display_name": "X", "locale": "xx"})
    assert response.status_code == 422
    assert saved_member(app, member.id).locale is None


def test_persian_pages_show_jalali_dates_and_english_pages_gregorian(app, make_member, client, now):
    # 2026-11-25 09:30 UTC is 13:00 on 4 Azar 1405 in Tehran
    make_member(email="date@example.com", password=PASSWORD, points=50, now=now, locale="fa")
    log_in(client, "date@example.com")
    html = client.get("/me/activity").get_data(as_text=True)
    assert "۴ آذر ۱۴۰۵" in html and "۱۳:۰۰" in html
    assert 'datetime="2026-11-25T09:30:00+00:00"' in html

    post_form(client, "/locale", {"locale": "en", "next": "/"}, form_url="/")
    html = client.get("/me/activity").get_data(as_text=True)
    assert "Nov 25, 2026" in html and "آذر" not in html


def test_persian_pages_have_no_english_left(app, make_member, client):
    make_member(email="fa@example.com", password=PASSWORD, points=10, locale="fa",
                display_name="سارا")
    client.set_cookie("vafa_locale", "fa")
    pages = [client.get(url).get_data(as_text=True) for url in ("/", "/join", "/login", "/nope")]
    log_in(client, "fa@example.com")
    pages += [client.get(url).get_data(as_text=True) for url in
              ("/me", "/me/activity", "/me/settings", "/logout")]
    for html in pages:
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        words = set(re.findall(r"[A-Za-z]{3,}", text)) - {"English", "fa", "example", "com"}
        assert not words, words


def test_error_pages_speak_the_visitors_language(client):
    client.set_cookie("vafa_locale", "fa")
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "این صفحه وجود ندارد" in html and "۴۰۴" in html
