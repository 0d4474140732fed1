"""Redeeming a reward on a 360 px phone, in Persian and English: the catalog's
three groups (redeem now, almost there, locked by tier), the htmx preview swapped
into the catalog card, the confirm, the coupon with its QR code, the coupon in
/me/coupons, and the points balance down by the cost. Every page fits the screen
and axe finds no serious or critical problems."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.e2e.pages import (
    PASSWORD,
    SMALL_PHONE,
    check_the_page,
    in_locale,
    sign_in,
)


def a_catalog_and_a_member_with_500_points(app, make_member, locale):
    """Coffee (200) can be redeemed, Dinner (800) is 300 points away, and the
    Spa day is for Gold members (the member is Bronze)."""
    from webapp.extensions import db
    from webapp.services import tiers
    from webapp.services.members import audit
    from webapp.services.offers import rewards

    now = datetime.now(UTC)
    member = make_member(email=f"rewards-{locale}@example.com", password=PASSWORD, locale=locale,
                         display_name="Sara", points=500)
    with app.app_context():
        tiers.save_program(db.session, tiers.default_program(), actor=audit.CLI, now=now)
        gold = next(level for level in tiers.load_program(db.session).levels if level.code == "gold")

        def reward(**kw):
            data = {"kind": "coupon_amount", "value": 50_000, "status": "active", "coupon_valid_days": 30,
                    "description_fa": "در همهٔ شعبه‌ها", "description_en": "At every branch", **kw}
            return rewards.save_reward(db.session, rewards.RewardData(**data), actor=audit.CLI, now=now).id

        ids = {
            "coffee": reward(name_fa="قهوهٔ رایگان", name_en="Free coffee", cost_points=200, stock=10),
            "dinner": reward(name_fa="شام دونفره", name_en="Dinner for two", cost_points=800),
            "spa": reward(name_fa="یک روز اسپا", name_en="A spa day", cost_points=300, min_tier_id=gold.id),
        }
        db.session.commit()
    return member, ids


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_redeems_a_reward_and_finds_the_coupon_with_its_qr_code(app, make_member, browser_page,
                                                                         axe_violations, locale):
    member, ids = a_catalog_and_a_member_with_500_points(app, make_member, locale)
    fa = locale == "fa"
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, f"rewards-{locale}@example.com")

    # the catalog, grouped
    page.goto("/rewards")
    assert in_locale(500, locale) in page.text_content("#reward-balance")
    afford, away, locked = (page.locator(f"#rewards-{group}") for group in ("afford", "away", "locked"))
    assert afford.locator(".reward-item").count() == 1
    assert afford.locator(f"#reward-{ids['coffee']}").is_visible()
    dinner = away.locator(f"#reward-{ids['dinner']}")
    assert dinner.is_visible() and dinner.locator(".reward-redeem").count() == 0
    assert in_locale(300, locale) in dinner.locator(".reward-needed").text_content()  # 800 − 500
    assert dinner.locator("[role=progressbar]").get_attribute("aria-valuenow") == "62"  # 500 of 800
    spa = locked.locator(f"#reward-{ids['spa']}")
    assert spa.is_visible() and spa.locator(".reward-redeem").count() == 0
    assert ("طلایی" if fa else "Gold") in spa.locator(".reward-locked").text_content()
    if fa:
        assert "500" not in page.text_content("main") and "۵۰۰" in page.text_content("main")
    check_the_page(page, axe_violations, "rewards", locale)

    # the preview comes into the card in place (htmx), with the price and what is left after
    coffee = afford.locator(f"#reward-{ids['coffee']}")
    coffee.locator(".reward-redeem").click()
    confirm = coffee.locator("#reward-confirm")
    confirm.wait_for()
    assert page.url.endswith("/rewards")  # swapped into the catalog, not a new page
    preview = coffee.locator(".reward-preview").text_content()
    assert in_locale(200, locale) in preview and in_locale(300, locale) in preview  # costs 200, 300 left
    assert in_locale(200, locale) in confirm.text_content()
    check_the_page(page, axe_violations, "reward-preview", locale)

    # confirm: the coupon, with its QR code and its code to read aloud
    confirm.click()
    page.wait_for_url(re.compile(r"/me/coupons/\d+$"))
    coupon_url = page.url
    qr = page.locator("#coupon-qr svg")
    assert qr.count() == 1 and qr.is_visible()
    box = qr.bounding_box()
    assert box["width"] >= 120 and box["x"] >= 0 and box["x"] + box["width"] <= SMALL_PHONE["width"]
    drawn = qr.locator("path").bounding_box()  # the modules fill the box but for the quiet zone
    assert drawn["width"] >= 0.8 * box["width"] and drawn["height"] >= 0.8 * box["height"]
    code = page.text_content("#coupon-code").strip()
    assert re.fullmatch(r"[2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5}", code)
    # (the words come with the merged catalogs; the state is in the class)
    assert "coupon-status-issued" in page.get_attribute("#coupon-status", "class")
    assert ("قهوهٔ رایگان" if fa else "Free coffee") in page.text_content("#coupon-title")
    check_the_page(page, axe_violations, "coupon", locale)

    # and in the member's coupons
    page.goto("/me/coupons")
    listed = page.locator("#coupon-list .coupon-item")
    assert listed.count() == 1
    assert code in listed.first.text_content()
    assert listed.first.locator(".coupon-status-issued").count() == 1
    check_the_page(page, axe_violations, "coupons", locale)
    listed.first.locator("a").click()
    page.wait_for_url(coupon_url)

    # the balance is down by the cost, on the dashboard and in the catalog
    page.goto("/me")
    assert page.text_content("#points-balance").strip() == in_locale(300, locale)
    page.goto("/rewards")
    assert in_locale(300, locale) in page.text_content("#reward-balance")
    from webapp.extensions import db
    from webapp.models import Member

    with app.app_context():
        assert db.session.get(Member, member.id).points_balance == 300
