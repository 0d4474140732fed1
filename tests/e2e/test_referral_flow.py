"""A referral on 360 px phones, in Persian: member A opens /invite and presses
"copy link" (the press is counted); a new visitor (another browser context)
opens A's link, joins with the friend's offer shown, the till posts the
friend's first purchase through the JSON API, and both see their points rise
on /me. Every page fits the screen and axe finds no serious problems."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.e2e.pages import SMALL_PHONE, check_the_page, in_locale

PASSWORD = "a-good-password-1"
# headless Chromium says "HeadlessChrome", which the open counter rightly takes for a bot
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0 Mobile Safari/537.36")


def test_a_shared_link_brings_a_friend_and_a_purchase_rewards_both(app, live_server, make_member, api_key,
                                                                  browser_page, axe_violations):
    from webapp.extensions import db
    from webapp.models import Member, ReferralOpen, ReferralShare

    sara = make_member(email="sara@example.com", password=PASSWORD, locale="fa", display_name="سارا احمدی")
    page = browser_page("fa")
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/login")
    page.fill("#login", "sara@example.com")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me")
    assert page.locator("#invite-card").is_visible()
    assert page.text_content("#points-balance").strip() == in_locale(0, "fa")

    page.goto("/invite")
    link = page.input_value("#invite-link")
    assert link == f"{live_server}/r/{sara.referral_code}"
    assert page.locator("#invite-qr svg").is_visible()
    with page.expect_response("**/invite/share") as pressed:
        page.click("#share-copy")
    assert pressed.value.status == 204
    page.locator("#share-status:not(:empty)").wait_for()
    check_the_page(page, axe_violations, "invite", "fa")
    with app.app_context():
        assert db.session.scalars(select(ReferralShare.channel)).all() == ["copy"]

    friend = browser_page("fa")  # a fresh browser context: another phone
    friend.context.set_extra_http_headers({"User-Agent": PHONE})
    friend.set_viewport_size(SMALL_PHONE)
    friend.goto(link)
    with app.app_context():
        assert db.session.scalar(select(func.count(ReferralOpen.id))) == 1
    assert "سارا احمدی" in friend.text_content("#invite-title")
    assert in_locale(200, "fa") in friend.text_content("#invite-offer")
    check_the_page(friend, axe_violations, "invite-landing", "fa")
    friend.click("#invite-join")
    friend.wait_for_url("**/join")
    assert "سارا احمدی" in friend.text_content("#join-offer")
    check_the_page(friend, axe_violations, "join-invited", "fa")
    friend.fill("#mobile", "۰۹۱۲۳۴۵۶۷۸۹")
    friend.fill("#display_name", "نیما")
    friend.fill("#password", PASSWORD)
    friend.click("main form button[type=submit]")
    friend.wait_for_url("**/me")
    assert friend.text_content("#points-balance").strip() == in_locale(0, "fa")

    with app.app_context():
        friend_id = db.session.scalar(select(Member.id).where(Member.mobile.is_not(None)))
    till = friend.context.request.post(
        f"{live_server}/api/v1/transactions",
        data={"member_id": friend_id, "amount": 450_000, "currency": app.config["VAFA_CURRENCY"],
              "occurred_at": datetime.now(UTC).isoformat()},
        headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert till.status == 201, till.text()

    with app.app_context():
        friend_points = db.session.get(Member, friend_id).points_balance
    assert friend_points >= 200  # the welcome gift (and whatever the purchase earns)
    friend.reload()
    assert friend.text_content("#points-balance").strip() == in_locale(friend_points, "fa")
    page.goto("/me")
    assert page.text_content("#points-balance").strip() == in_locale(500, "fa")
    page.goto("/invite")
    assert page.text_content("#funnel-qualified").strip() == in_locale(1, "fa")
    check_the_page(page, axe_violations, "invite-after", "fa")


def test_the_invite_pages_fit_a_small_phone_in_english(app, make_member, browser_page, axe_violations):
    from webapp.extensions import db
    from webapp.models import Member

    sara = make_member(email="sara-en@example.com", password=PASSWORD, locale="en", display_name="Sara Ahmadi")
    page = browser_page("en")
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/login")
    page.fill("#login", "sara-en@example.com")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me")
    page.goto("/invite")
    assert "500 points" in page.text_content("#invite-gifts")
    check_the_page(page, axe_violations, "invite", "en")
    visitor = browser_page("en")
    visitor.set_viewport_size(SMALL_PHONE)
    assert visitor.goto("/r/NOSUCHCODE").status == 404
    check_the_page(visitor, axe_violations, "invite-unknown", "en")
    visitor.goto(f"/r/{sara.referral_code}")
    assert visitor.text_content("#invite-title").strip() == "Sara Ahmadi invites you to Vafa club"
    check_the_page(visitor, axe_violations, "invite-landing", "en")
    with app.app_context():
        assert db.session.get(Member, sara.id).points_balance == 0
