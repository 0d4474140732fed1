"""The message template editor in a real browser, in Persian and English: the
preview follows what the owner types (htmx, debounced), an unknown variable is
named under the preview, and the page passes axe on a phone."""

from __future__ import annotations

import pytest

from tests.e2e.pages import SMALL_PHONE, check_the_page


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_preview_follows_the_typing_and_names_an_unknown_variable(browser_page, make_staff, axe_violations,
                                                                       locale):
    owner = make_staff("owner")
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/admin/login")
    page.fill("#email", owner.email)
    page.fill("#password", owner.plain_password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/messages/templates/birthday/{locale}")
    assert "200" in page.inner_text(".preview-body") or "۲۰۰" in page.inner_text(".preview-body")

    page.fill("#body", "Cake for {{ name }} and {{ coupon_code }}")
    page.wait_for_selector(".preview-error")
    assert "coupon_code" in page.inner_text("#template-preview")

    page.fill("#body", "Cake for {{ name }}!")
    page.wait_for_selector(".preview-body")
    assert "Cake for" in page.inner_text(".preview-body")
    check_the_page(page, axe_violations, "message-template", locale)
    page.goto("/admin/messages/templates")
    check_the_page(page, axe_violations, "message-templates", locale)
