"""A new member on a phone: join → dashboard → switch language → activity with
htmx "load more", in each locale, with no serious accessibility problems and
nothing wider than a 360 px screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.e2e.pages import DIRECTION

OTHER = {"fa": "en", "en": "fa"}
MOBILE_TYPED = {"fa": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "en": "0912 345 6789"}


def fits_a_small_phone(page) -> bool:
    page.set_viewport_size({"width": 360, "height": 740})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 390, "height": 844})
    return width <= 360


def the_member(app):
    from webapp.extensions import db
    from webapp.models import Member

    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.mobile == "+989123456789"))
        db.session.expunge(member)
        return member


def give_history(app, member_id, count):
    from webapp.extensions import db
    from webapp.services import ledger

    now = datetime.now(UTC)
    with app.app_context():
        for n in range(count):
            ledger.award_points(db.session, member_id, 10 + n, key=f"e2e:{n}",
                                now=now - timedelta(hours=count - n), description=f"visit {n}")
        db.session.commit()


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_join_dashboard_switch_language_and_activity(app, browser_page, axe_violations, locale):
    page = browser_page(locale)

    # the landing page, then join (first with a password that is too short)
    page.goto("/")
    assert page.get_attribute("html", "dir") == DIRECTION[locale]
    assert axe_violations(page) == []
    assert fits_a_small_phone(page)
    page.click("main a[href='/join']")
    page.fill("#mobile", MOBILE_TYPED[locale])
    page.fill("#display_name", "Sara")
    page.fill("#password", "short")
    page.click("form button[type=submit]")
    assert page.is_visible("#password-error")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert axe_violations(page) == []
    assert fits_a_small_phone(page)

    page.fill("#password", "a-good-password-1")
    page.click("#password + .password-toggle")  # app.js: show what was typed
    assert page.get_attribute("#password", "type") == "text"
    page.click("form button[type=submit]")
    page.wait_for_url("**/me")

    # the dashboard, in the language the visitor joined in
    member = the_member(app)
    assert member.locale == locale
    zero = "۰" if locale == "fa" else "0"
    assert page.text_content("#points-balance").strip() == zero
    assert axe_violations(page) == []
    assert fits_a_small_phone(page)

    # switch language from the footer: the page comes back in the other one
    give_history(app, member.id, 25)
    page.click(f".locale-switch button[value='{OTHER[locale]}']")
    page.wait_for_load_state()
    assert page.get_attribute("html", "dir") == DIRECTION[OTHER[locale]]
    assert page.url.endswith("/me")
    assert the_member(app).locale == OTHER[locale]
    assert axe_violations(page) == []

    # activity: 20 entries, then htmx appends the rest in place
    page.click(".member-nav a[href='/me/activity']")
    page.wait_for_url("**/me/activity")
    assert page.locator("#activity-list .entry").count() == 20
    assert axe_violations(page) == []
    assert fits_a_small_phone(page)
    page.click("#activity-list .load-more a")
    # (locator waits: wait_for_function would eval a string, which our CSP forbids)
    page.locator("#activity-list .entry").nth(24).wait_for()
    assert page.locator("#activity-list .entry").count() == 25
    assert page.url.endswith("/me/activity")  # appended, not navigated
    assert page.locator("html").count() == 1 and page.locator("#activity-list .load-more").count() == 0
    # keyboard focus moves to the first entry that arrived (app.js, after htmx settles)
    page.locator("#activity-list .entry:focus").wait_for()
    assert page.text_content("#activity-list .entry:focus .entry-desc") == "visit 4"
    assert page.text_content("#activity-list .entry:last-child .entry-desc") == "visit 0"
    assert axe_violations(page) == []

    # settings, then log out through the confirm form
    page.click(".member-nav a[href='/me/settings']")
    assert axe_violations(page) == []
    assert fits_a_small_phone(page)
    # on a phone the tab bar leaves "Log out" to the settings page
    assert not page.is_visible(".member-nav a[href='/logout']")
    page.click("main a[href='/logout']")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/me")
    assert "/login" in page.url
    assert axe_violations(page) == []


def test_load_more_works_without_javascript(app, browser, live_server, make_member):
    member = make_member(email="nojs@example.com", password="a-good-password-1")
    give_history(app, member.id, 25)
    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#login", "nojs@example.com")
        page.fill("#password", "a-good-password-1")
        page.click("form button[type=submit]")
        page.wait_for_url("**/me")
        page.goto("/me/activity")
        page.click("#activity-list .load-more a")
        page.wait_for_url("**/me/activity?before=*")
        assert page.locator("#activity-list .entry").count() == 5
    finally:
        context.close()
