"""What the browser tests check on every page (direction, fits a 360 px phone,
no serious axe problems, a screenshot on request) and how they sign a member in."""

from __future__ import annotations

import os

PASSWORD = "a-good-password-1"
SMALL_PHONE = {"width": 360, "height": 780}
DIRECTION = {"fa": "rtl", "en": "ltr"}
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
SCREENSHOTS = os.environ.get("VAFA_SCREENSHOTS")  # a folder, to look at the pages by eye


def in_locale(number: int, locale: str) -> str:
    text = f"{number:,}"
    if locale == "fa":
        text = text.translate(str.maketrans("0123456789,", PERSIAN_DIGITS + "٬"))
    return text


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def sign_in(page, email):
    page.goto("/login")
    page.fill("#login", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me")


def check_the_page(page, axe_violations, name, locale):
    assert page.get_attribute("html", "dir") == DIRECTION[locale]
    assert no_horizontal_overflow(page), f"{name} is wider than the phone"
    assert axe_violations(page) == [], name
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{locale}.png", full_page=True)
