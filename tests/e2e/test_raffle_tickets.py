"""Buying raffle tickets on a 360 px phone, in Persian and English: /raffles
(with the games tabs), one raffle, buying through htmx (my tickets, my entry
id and my points change in place, the page does not reload), then the
verification page. Every page fits the screen and axe finds no serious or
critical problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.pages import PASSWORD, SMALL_PHONE, check_the_page, in_locale
from tests.factories import make_raffle, prize


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_buys_raffle_tickets_and_sees_them_and_the_balance_change(app, make_member, browser_page,
                                                                           axe_violations, locale):
    from webapp.extensions import db

    make_member(email=f"raffle-{locale}@example.com", password=PASSWORD, locale=locale, display_name="Sara",
                points=500)
    with app.app_context():
        raffle_id = make_raffle(db.session, datetime.now(UTC), ticket_price=25, max_tickets_per_member=10,
                                prizes=(prize("points", amount=1_000), prize("physical", quantity=2)),
                                description_fa="جایزه‌ها را در شعبهٔ مرکزی بگیرید", description_en="Collect at the main branch")
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/login")
    page.fill("#login", f"raffle-{locale}@example.com")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/me")

    page.goto("/raffles")
    assert page.locator(".games-tabs [aria-current=page]").count() == 1
    item = page.locator(f"#raffle-{raffle_id}")
    assert ("قرعه‌کشی پاییز" if locale == "fa" else "Autumn raffle") in item.text_content()
    assert item.locator(".raffle-my-tickets").text_content().strip() == in_locale(0, locale)
    check_the_page(page, axe_violations, "raffles", locale)

    item.locator("h3 a").click()
    page.wait_for_url(f"**/raffles/{raffle_id}")
    assert page.text_content("#raffle-balance").strip() == in_locale(500, locale)
    check_the_page(page, axe_violations, "raffle", locale)

    page.fill("#quantity", "4")
    page.click("#raffle-buy")
    page.locator("#raffle-entry-id").wait_for()
    assert page.url.endswith(f"/raffles/{raffle_id}")  # swapped in place
    assert page.text_content("#raffle-my-tickets").strip() == in_locale(4, locale)
    assert page.text_content("#raffle-balance").strip() == in_locale(400, locale)  # 500 − 4 × 25
    assert in_locale(100, locale) in page.text_content("#raffle-odds")
    check_the_page(page, axe_violations, "raffle-bought", locale)

    page.reload()
    assert page.text_content("#raffle-my-tickets").strip() == in_locale(4, locale)
    page.goto(f"/raffles/{raffle_id}/verify")
    assert page.locator("#verify-commitment").is_visible()
    check_the_page(page, axe_violations, "raffle-verify", locale)

    # after the draw (the job's steps, run at a later clock): the result, the seed and the command
    from webapp.services.play import raffles

    with app.app_context():
        later = datetime.now(UTC) + timedelta(days=2)
        for step in (raffles.freeze_entries, raffles.draw_winners, raffles.award_prizes):
            assert step(db.session, raffle_id, later)
            db.session.commit()
    page.reload()
    assert page.locator("#raffle-winners li").count() == 1  # one entry: the only winner
    assert page.locator("#verify-seed").is_visible() and page.locator("#verify-command").is_visible()
    check_the_page(page, axe_violations, "raffle-verify-drawn", locale)
    page.goto(f"/raffles/{raffle_id}")
    assert page.locator("#raffle-winners").is_visible()
    check_the_page(page, axe_violations, "raffle-drawn", locale)
