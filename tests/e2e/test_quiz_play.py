"""Playing a quiz on a 360 px phone, in Persian and English: from the Play tab
to the quiz, each question tapped (htmx swaps the result and the next question
in place), the score and the rank on the contest page. Every page fits the
screen and axe finds no serious or critical problems."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.pages import PASSWORD, SMALL_PHONE, check_the_page, sign_in


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_plays_a_quiz_to_the_end_and_sees_score_and_rank(app, make_member, browser_page,
                                                                  axe_violations, locale):
    from tests.factories import make_quiz
    from webapp.extensions import db

    member = make_member(email=f"quiz-{locale}@example.com", password=PASSWORD, locale=locale,
                         display_name="Sara")
    with app.app_context():
        contest_id = make_quiz(db.session, datetime.now(UTC), questions=3).id
        db.session.commit()
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, member.email)

    page.goto("/contests")
    check_the_page(page, axe_violations, "contests", locale)
    page.click(f"a[href='/contests/{contest_id}']")
    page.wait_for_url(f"**/contests/{contest_id}")
    check_the_page(page, axe_violations, "contest", locale)
    page.click("#quiz-start")
    page.wait_for_url(f"**/contests/{contest_id}/play")
    for number in range(3):
        page.wait_for_selector(".quiz-option")
        check_the_page(page, axe_violations, f"question-{number}", locale)
        # the countdown runs from the server's deadline, in the member's digits
        timer = page.locator(".quiz-timer-value")
        timer.wait_for()
        shown = timer.inner_text()
        assert shown and (all("۰" <= ch <= "۹" for ch in shown) if locale == "fa" else shown.isdigit())
        page.click(".quiz-option >> nth=0")
        page.wait_for_selector("#quiz-correct")
        check_the_page(page, axe_violations, f"answered-{number}", locale)
        if number < 2:
            page.click("#quiz-next")
    page.click("#quiz-see-rank")
    page.wait_for_url(f"**/contests/{contest_id}")
    assert page.locator("#contest-result").is_visible()
    mine = page.locator("#board-mine").inner_text()
    assert ("رتبهٔ شما" in mine) if locale == "fa" else ("Your rank: 1" in mine)
    check_the_page(page, axe_violations, "contest-played", locale)
