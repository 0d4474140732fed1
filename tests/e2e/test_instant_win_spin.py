"""Spin the wheel on a 360 px phone, in Persian and English: the games list
with its tabs, the game page with the prizes' published odds and what is left,
a play whose result htmx swaps into the page (the wheel turns, the balance
changes), the play in the member's history, and the no-JavaScript result page.
Every page fits the screen and axe finds no serious or critical problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.pages import SMALL_PHONE, check_the_page, in_locale, sign_in

PASSWORD = "a-good-password-1"


def a_wheel_and_a_member_with_100_points(app, make_member, locale):
    """A wheel that costs 10 points and always gives 50 points (five of them)."""
    from games.instant_win import ODDS_SCALE
    from webapp.extensions import db
    from webapp.services.members import audit
    from webapp.services.play import instant_win
    from webapp.services.play.instant_win import GameSpec, PrizeSpec

    now = datetime.now(UTC)
    member = make_member(email=f"spin-{locale}@example.com", password=PASSWORD, locale=locale,
                         display_name="Sara", points=100)
    with app.app_context():
        game = instant_win.create_game(db.session, GameSpec(
            name_fa="گردونهٔ شانس", name_en="Lucky wheel", description_fa="هر روز دو بار",
            description_en="Twice a day", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=9),
            cost_points=10, daily_plays=2,
            prizes=(PrizeSpec(name_fa="۵۰ امتیاز", name_en="Fifty points", kind="points", value=50,
                              odds_ppm=ODDS_SCALE // 2, quantity=5),
                    PrizeSpec(name_fa="اعتبار خرید", name_en="Store credit", kind="credit", value=10_000,
                              odds_ppm=ODDS_SCALE // 2, quantity=0 + 1)),
        ), actor=audit.CLI, now=now)
        instant_win.publish_game(db.session, game.id, actor=audit.CLI, now=now)
        db.session.commit()
        return member, game.id


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_spins_the_wheel_and_sees_the_result_and_the_new_balance(app, make_member, browser_page,
                                                                         axe_violations, locale):
    member, game_id = a_wheel_and_a_member_with_100_points(app, make_member, locale)
    fa = locale == "fa"
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, f"spin-{locale}@example.com")

    # the list, under the games tabs
    page.goto("/play/spin")
    assert page.locator(".games-tabs a[aria-current=page]").count() == 1
    assert ("گردونهٔ شانس" if fa else "Lucky wheel") in page.text_content("#spin-games")
    check_the_page(page, axe_violations, "spin-list", locale)

    # the game: published odds, what is left, plays left, the balance
    page.locator(f"#spin-games a[href='/play/spin/{game_id}']").first.click()
    page.wait_for_url(f"**/play/spin/{game_id}")
    prizes = page.text_content("#spin-prizes")
    assert (f"۱ از {in_locale(2, locale)}" if fa else "1 in 2") in prizes
    assert in_locale(5, locale) in prizes
    assert page.text_content("#spin-balance").strip() == in_locale(100, locale)
    assert page.text_content("#spin-plays-left").strip() == in_locale(2, locale)
    assert page.locator(".wheel-svg").is_visible()
    check_the_page(page, axe_violations, "spin-game", locale)

    # play: htmx swaps the result into the page; the balance is 100 − 10 (+ 50 for the points prize)
    page.click("#spin-play")
    page.locator("#spin-result").wait_for()
    assert page.url.endswith(f"/play/spin/{game_id}")  # swapped in place, not a new page
    from webapp.extensions import db
    from webapp.models import InstantWinPlay, Member

    with app.app_context():
        [played] = db.session.query(InstantWinPlay).all()
        balance = db.session.get(Member, member.id).points_balance
    assert played.outcome == "won" and balance in (90 + 50, 90)
    assert page.text_content("#spin-balance").strip() == in_locale(balance, locale)
    assert page.text_content("#spin-plays-left").strip() == in_locale(1, locale)
    result = page.text_content("#spin-result")
    assert ("بردید" if fa else "You won") in result
    check_the_page(page, axe_violations, "spin-result", locale)

    # the play is in the member's history, and its own page shows the same result
    page.goto("/play/spin")
    page.locator("#spin-history a").first.click()
    page.wait_for_url(f"**/play/spin/plays/{played.id}")
    assert ("بردید" if fa else "You won") in page.text_content("#spin-result")
    check_the_page(page, axe_violations, "spin-play", locale)
