""""Notifications on this device" on /me/settings, on a 360 px phone in Persian
and English. Headless Chromium has no push service, so no test here pretends a
subscription was made: they check what a browser really does — the service
worker registers at /sw.js for the whole site, the control reads the browser's
state (off, blocked by the browser, unsupported), turning it on asks for
permission and a refusal shows as blocked, and a browser that cannot subscribe
says so and sends the club nothing. (The delivery itself is tested end to end,
with real encryption, in tests/messages/test_push.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.e2e.pages import DIRECTION, PASSWORD, SMALL_PHONE, check_the_page, sign_in
from tests.helpers.web import in_db
from webapp.models import PushSubscription

ENGLISH = {
    "off": "Notifications are off on this device.",
    "blocked": "Notifications are blocked for this site in your browser settings. Allow them there, "
               "then come back here.",
    "unsupported": "This browser cannot show notifications from the club.",
    "failed": "Notifications could not be changed on this device. Please try again.",
}


def settings_page(page, make_member, locale):
    email = f"push-{locale}@example.com"
    make_member(email=email, password=PASSWORD, locale=locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, email)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/me/push/" in r.url else None)
    page.goto("/me/settings")
    return posts


def wait_for_state(page, state):
    page.locator(f"#push-control[data-state={state}]").wait_for()
    text = page.locator("#push-state").inner_text()
    assert text.strip()
    return text


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_control_registers_the_worker_and_a_refused_permission_shows_as_blocked(
        app, make_member, browser_page, axe_violations, live_server, locale):
    page = browser_page(locale)
    posts = settings_page(page, make_member, locale)

    worker = page.evaluate("navigator.serviceWorker.ready.then(r => [r.scope, r.active.scriptURL])")
    assert worker == [f"{live_server}/", f"{live_server}/sw.js"]

    # a browser that was never asked: off, with a button to turn it on
    text = wait_for_state(page, "off")
    if locale == "en":
        assert text == ENGLISH["off"]
    toggle = page.locator("#push-toggle")
    assert toggle.is_visible() and toggle.get_attribute("data-action") == "on"
    assert page.get_attribute("html", "dir") == DIRECTION[locale]
    box = page.locator("#push-control").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= SMALL_PHONE["width"]
    check_the_page(page, axe_violations, "settings-push-off", locale)

    # headless Chromium answers the permission prompt with "denied", as a member tapping "Block" would
    toggle.click()
    text = wait_for_state(page, "blocked")
    if locale == "en":
        assert text == ENGLISH["blocked"]
    assert not toggle.is_visible()
    assert page.evaluate("Notification.permission") == "denied"
    check_the_page(page, axe_violations, "settings-push-blocked", locale)
    page.reload()
    wait_for_state(page, "blocked")  # the browser remembers; so does the page
    assert posts == []


def test_a_browser_that_cannot_subscribe_says_so_and_tells_the_club_nothing(
        app, make_member, browser_page, axe_violations):
    page = browser_page("en")
    page.context.grant_permissions(["notifications"])
    posts = settings_page(page, make_member, "en")
    wait_for_state(page, "off")
    page.click("#push-toggle")
    # permission granted, but this Chromium has no push service to subscribe with
    assert wait_for_state(page, "failed") == ENGLISH["failed"]
    assert page.locator("#push-toggle").is_visible()  # the member can try again
    assert posts == []
    assert in_db(app, lambda s: s.scalar(select(func.count(PushSubscription.id)))) == 0
    check_the_page(page, axe_violations, "settings-push-failed", "en")


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_browser_without_web_push_is_told_so_without_a_button(app, make_member, browser_page, axe_violations,
                                                                 locale):
    page = browser_page(locale)
    page.context.add_init_script("delete window.PushManager;")
    settings_page(page, make_member, locale)
    text = wait_for_state(page, "unsupported")
    if locale == "en":
        assert text == ENGLISH["unsupported"]
    assert not page.locator("#push-toggle").is_visible()
    check_the_page(page, axe_violations, "settings-push-unsupported", locale)
