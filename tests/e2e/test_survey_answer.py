"""A member answers an NPS survey from the link in their message, on a 360 px
phone in Persian and in English: the page is in their language, fits the
screen, has real buttons and no serious axe problems; one tap on a score
answers, the thanks page takes a comment; a link carrying ?score=N only asks
to confirm."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.pages import DIRECTION, SMALL_PHONE, check_the_page, in_locale
from tests.helpers.web import in_db
from tests.surveys.helpers import active_survey, send
from webapp.models import OutboxMessage, SurveyAnswer

QUESTION = {"fa": "چقدر ما را به دوستانتان پیشنهاد می‌کنید؟", "en": "How likely are you to recommend us to a friend?"}


def the_link_in_the_message(app, make_member, locale) -> tuple[int, str]:
    member = make_member(locale=locale, display_name="Sara")
    survey_id = active_survey(app)
    send(app, survey_id)
    path = in_db(app, lambda s: s.scalar(select(OutboxMessage.params).where(
        OutboxMessage.member_id == member.id, OutboxMessage.channel == "email", OutboxMessage.kind == "survey")))["path"]
    return member.id, path


def stored(app):
    return in_db(app, lambda s: [(a.score, a.comment) for a in s.scalars(select(SurveyAnswer))])


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_member_answers_an_nps_survey_in_one_tap_from_the_link(app, make_member, browser_page, axe_violations,
                                                                 locale):
    _, path = the_link_in_the_message(app, make_member, locale)
    page = browser_page("en" if locale == "fa" else "fa")  # the member's own language wins over the browser's
    page.set_viewport_size(SMALL_PHONE)
    page.goto(path)
    assert page.get_attribute("html", "lang") == locale
    assert page.locator("h1").inner_text() == QUESTION[locale]
    buttons = page.locator("button[name=score]")
    assert buttons.count() == 11
    assert buttons.nth(10).inner_text() == in_locale(10, locale)
    for n in (0, 5, 6, 10):  # two rows of big buttons inside the screen
        box = buttons.nth(n).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 40
        assert box["x"] >= 0 and box["x"] + box["width"] <= SMALL_PHONE["width"]
    check_the_page(page, axe_violations, "survey", locale)

    page.get_by_role("button", name=in_locale(9, locale), exact=True).click()
    page.wait_for_selector("#survey-thanks")
    assert stored(app) == [(9, None)]
    check_the_page(page, axe_violations, "survey-thanks", locale)
    assert page.locator("label[for=comment]").is_visible()
    page.fill("#comment", "Friendly staff <3")
    page.click("#survey-comment-form button[type=submit]")
    page.wait_for_selector("#survey-comment-saved")
    assert stored(app) == [(9, "Friendly staff <3")]
    assert page.get_attribute("html", "dir") == DIRECTION[locale]


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_score_tapped_in_the_message_is_chosen_and_confirmed(app, make_member, browser_page, axe_violations,
                                                               locale):
    _, path = the_link_in_the_message(app, make_member, locale)
    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    page.goto(f"{path}?score=3")
    assert page.locator("#score-3").get_attribute("aria-current") == "true"
    assert stored(app) == []  # opening the link answers nothing
    check_the_page(page, axe_violations, "survey-chosen", locale)
    page.fill("#comment", "The queue was long")
    page.click("#survey-send")
    page.wait_for_selector("#survey-thanks")
    assert stored(app) == [(3, "The queue was long")]
    assert page.locator("#survey-comment-form").count() == 0
