"""A marketer (affiliate) on a 360 px phone, in Persian and English: signs in
at /partner/login, sees their link and QR, builds a campaign link through htmx
(swapped in place), and the funnel with that campaign. Every page fits the
screen and axe finds no serious or critical problems."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import SMALL_PHONE, check_the_page

PASSWORD = "partner-pass-1"


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_marketer_signs_in_and_builds_a_campaign_link_on_a_small_phone(app, browser_page, axe_violations, locale):
    from webapp.extensions import db
    from webapp.services import referrals
    from webapp.services.members import audit
    from webapp.services.referrals import marketer_ledger, marketers
    from webapp.services.referrals.marketers import MarketerTerms

    with app.app_context():
        now = datetime.now(UTC)
        marketer = marketers.create_marketer(
            db.session, MarketerTerms("نیما تبلیغات" if locale == "fa" else "Nima Ads", commission_amount=50_000,
                                      commission_bp=250),
            email=f"nima-{locale}@partners.example.com", password=PASSWORD, code="NAMA2", actor=audit.CLI, now=now)
        marketer_ledger.post(db.session, marketer_id=marketer.id, amount=150_000, kind="adjustment", key="demo",
                             now=now)
        db.session.commit()
        for visitor, tag in (("a", "instagram-story"), ("b", "instagram-story"), ("c", None)):
            referrals.record_open(db.session, referrals.resolve(db.session, "NAMA2", tag), visitor=visitor,
                                  user_agent="Mozilla/5.0 (Linux; Android 14)", now=now)
        db.session.commit()

    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/partner")
    page.wait_for_url("**/partner/login?next=/partner")
    check_the_page(page, axe_violations, "partner-login", locale)
    page.fill("#email", f"nima-{locale}@partners.example.com")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/partner")

    assert page.input_value("#partner-link-url").endswith("/r/NAMA2")
    assert page.locator("#partner-qr svg").count() == 1
    assert page.locator("#partner-campaigns li").count() == 2
    check_the_page(page, axe_violations, "partner", locale)

    page.fill("#c", "Flyer-1")
    page.click(".partner-builder button[type=submit]")
    expect(page.locator("#partner-link-url")).to_have_value(re.compile(r"/r/NAMA2\?c=flyer-1$"))
    assert page.url.endswith("/partner")  # swapped in place, no reload
    check_the_page(page, axe_violations, "partner-campaign-link", locale)
