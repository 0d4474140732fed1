"""The tier progress card on a 360×780 phone, in Persian and English: it fits
the screen, the progress bar is drawn to the member's share of the way (CSS
classes, no inline styles), and axe finds no serious or critical problems —
on /me, on /me/tier and in the inbox, where marking a message read with htmx
updates the badge in the navigation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.pages import (
    DIRECTION,
    PASSWORD,
    SCREENSHOTS,
    SMALL_PHONE,
    no_horizontal_overflow,
    sign_in,
)


def a_silver_member_half_way_to_gold(app, make_member, locale):
    from webapp.extensions import db
    from webapp.services import ledger, tiers
    from webapp.services.members import audit, inbox

    now = datetime.now(UTC)
    member = make_member(email=f"card-{locale}@example.com", password=PASSWORD, locale=locale,
                         display_name="Sara")
    with app.app_context():
        tiers.save_program(db.session, tiers.default_program(), actor=audit.CLI, now=now)
        ledger.award_points(db.session, member.id, 1_500, key="old", now=now - timedelta(days=340),
                            expires_at=now + timedelta(days=20))
        ledger.award_points(db.session, member.id, 1_000, key="new", now=now - timedelta(days=1))
        tiers.on_qualifying_event(db.session, member.id, now=now)  # Silver, with its inbox message
        inbox.post_message(db.session, member_id=member.id, kind="points_expiring",
                           params={"points": 1_500, "expires_at": (now + timedelta(days=20)).isoformat(),
                                   "days": 30}, key="reminder", now=now)
        db.session.commit()
    return member


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_tier_card_fits_a_small_phone_and_reads_well(app, make_member, browser_page, axe_violations,
                                                         locale):
    a_silver_member_half_way_to_gold(app, make_member, locale)
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, f"card-{locale}@example.com")

    assert page.get_attribute("html", "dir") == DIRECTION[locale]
    card = page.locator("#tier-card")
    assert card.is_visible()
    bar = card.locator("[role=progressbar]")
    assert bar.is_visible()
    assert bar.get_attribute("aria-valuenow") == "50"
    assert {"fa": "۱٬۵۰۰", "en": "1,500"}[locale] in bar.get_attribute("aria-valuetext")  # still needed
    track, fill = bar.bounding_box(), card.locator(".progress-fill").bounding_box()
    assert track["width"] > 150 and abs(fill["width"] / track["width"] - 0.5) < 0.02
    # the fill grows from the start of the line: the right edge in Persian, the left in English
    if locale == "fa":
        assert abs((fill["x"] + fill["width"]) - (track["x"] + track["width"])) < 1.5
    else:
        assert abs(fill["x"] - track["x"]) < 1.5
    assert card.locator("#tier-needed").is_visible() and card.locator("#tier-leaving li").count() == 1
    card_box = card.bounding_box()
    assert card_box["x"] >= 0 and card_box["x"] + card_box["width"] <= SMALL_PHONE["width"]
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/me-{locale}.png", full_page=True)

    # every level and the member's history
    page.click("#tier-card a[href='/me/tier']")
    page.wait_for_url("**/me/tier")
    assert page.locator(".tier-level").count() == 4
    assert page.locator(".tier-level[aria-current=true]").count() == 1
    assert page.locator("#tier-history li").count() == 1
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/tier-{locale}.png", full_page=True)


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_marking_a_message_read_updates_the_badge_in_place(app, make_member, browser_page, axe_violations,
                                                           locale):
    a_silver_member_half_way_to_gold(app, make_member, locale)
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, f"card-{locale}@example.com")
    badge = page.locator("#inbox-badge")
    digits = {"fa": "۲", "en": "2"}[locale]
    assert badge.is_visible() and digits in badge.inner_text()

    page.click(".member-nav a[href='/me/inbox']")
    page.wait_for_url("**/me/inbox")
    assert page.locator("#inbox-list .message-unread").count() == 2
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/inbox-{locale}.png", full_page=True)

    page.locator("#inbox-list .message-unread button").first.click()
    page.locator("#inbox-list .message-unread").nth(1).wait_for(state="detached")
    assert page.locator("#inbox-list .message-unread").count() == 1
    assert page.url.endswith("/me/inbox")  # swapped in place, not a new page
    assert {"fa": "۱", "en": "1"}[locale] in page.locator("#inbox-badge").inner_text()
    page.locator("#inbox-list .message:focus").wait_for()  # focus stays on the message read
    page.locator("#inbox-list .message-unread button").first.click()
    page.locator("#inbox-list .message-unread").wait_for(state="detached")
    assert page.locator("#inbox-badge").is_hidden()
    assert axe_violations(page) == []
