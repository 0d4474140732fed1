"""The club's front page in a real phone-sized browser, in both languages."""

import pytest


@pytest.mark.parametrize(("locale", "direction"), [("fa", "rtl"), ("en", "ltr")])
def test_front_page_renders_in_each_locale_without_serious_accessibility_problems(
    browser_page, axe_violations, locale, direction
):
    page = browser_page(locale)

    response = page.goto("/")

    assert response is not None and response.status == 200
    assert page.get_attribute("html", "dir") == direction
    assert (page.get_attribute("html", "lang") or "").startswith(locale)
    assert axe_violations(page) == []
