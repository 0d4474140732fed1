"""A member who joined at the till, on a phone: "Sign in with a code" from the
login page, the code read from the SMS the worker sent, then signed in; and the
forgotten-password page. Both locales, a 360 px screen, no serious axe problems."""

from __future__ import annotations

import re

import pytest

from tests.e2e.pages import DIRECTION
from tests.helpers.http_recorder import Answer

MOBILE_TYPED = {"fa": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "en": "0912 345 6789"}


def fits_a_small_phone(page) -> bool:
    page.set_viewport_size({"width": 360, "height": 740})
    return page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_signs_in_with_the_code_from_the_sms(app, browser_page, axe_violations, make_member,
                                                      run_worker, http_recorder, locale):
    app.config.update(VAFA_SMS_SENDER="http", VAFA_SMS_URL=http_recorder.url, VAFA_SMS_TOKEN="t")
    http_recorder.default = Answer(200, {"id": "p"})
    make_member(mobile="09123456789", locale=locale)
    page = browser_page(locale)

    page.goto("/login")
    page.click("a[href^='/login/code']")
    assert page.get_attribute("html", "dir") == DIRECTION[locale]
    assert fits_a_small_phone(page) and axe_violations(page) == []
    page.fill("#mobile", MOBILE_TYPED[locale])
    page.click("form button[type=submit]")
    page.wait_for_selector("#code")
    assert fits_a_small_phone(page) and axe_violations(page) == []

    run_worker()
    code = re.search(r"\b(\d{6})\b", http_recorder.requests[-1].json()["text"]).group(1)
    page.fill("#code", "000000" if code != "000000" else "111111")
    page.click("form button[type=submit]")
    page.wait_for_selector(".field-error")  # a wrong code says so, on the same page
    assert axe_violations(page) == []
    page.fill("#code", code)
    page.click("form button[type=submit]")
    page.wait_for_url("**/me")


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_forgotten_password_pages_fit_a_phone(app, browser_page, axe_violations, locale):
    page = browser_page(locale)
    page.goto("/login")
    page.click("a[href='/password/forgot']")
    assert fits_a_small_phone(page) and axe_violations(page) == []
    page.fill("#login", "nobody@example.com")
    page.click("form button[type=submit]")
    page.wait_for_url("**/password/sent")
    assert fits_a_small_phone(page) and axe_violations(page) == []
