"""/surveys/<token> in the test client: no sign-in, the member's language, one
tap answers, ?score=N pre-fills, a second answer changes nothing and shows the
thanks page, a comment after, unknown tokens 404, CSRF and the rate limit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers.web import MEMBER_PASSWORD, in_db, log_in, post_form, text
from tests.surveys.helpers import active_survey, send
from webapp.models import SurveyAnswer


def answers(app):
    return in_db(app, lambda s: [(a.member_id, a.score, a.comment)
                                 for a in s.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))])


@pytest.fixture
def invited(app, make_member):
    """A Persian-speaking member invited to an active NPS survey: (member, token)."""
    member = make_member(locale="fa", password=MEMBER_PASSWORD)
    survey_id = active_survey(app)
    return member, send(app, survey_id)[member.id]


def test_the_page_asks_in_the_members_language_with_a_button_per_score(client, invited):
    _, token = invited
    page = client.get(f"/surveys/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="fa" dir="rtl">' in html
    assert "چقدر ما را به دوستانتان پیشنهاد می‌کنید؟" in html
    buttons = re.findall(r'<button type="submit" name="score" value="(\d+)"', html)
    assert buttons == [str(n) for n in range(11)]
    assert "۱۰" in html  # the scores in Persian digits
    assert 'name="csrf_token"' in html


def test_one_tap_answers_and_a_second_answer_changes_nothing(app, client, invited):
    member, token = invited
    first = post_form(client, f"/surveys/{token}", {"score": "3"})
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/surveys/{token}")
    again = post_form(client, f"/surveys/{token}", {"score": "10", "comment": "later"},
                      form_url=f"/surveys/{token}")
    assert again.status_code == 302
    assert answers(app) == [(member.id, 3, None)]
    thanks = client.get(f"/surveys/{token}").get_data(as_text=True)
    assert 'id="survey-thanks"' in thanks and 'id="survey-comment-form"' in thanks


def test_a_comment_after_the_score_is_kept(app, client, invited):
    member, token = invited
    post_form(client, f"/surveys/{token}", {"score": "9"})
    done = post_form(client, f"/surveys/{token}/comment", {"comment": "<b>Lovely</b> staff"},
                     form_url=f"/surveys/{token}")
    assert done.status_code == 302
    assert answers(app) == [(member.id, 9, "<b>Lovely</b> staff")]
    html = client.get(f"/surveys/{token}").get_data(as_text=True)
    assert 'id="survey-comment-saved"' in html and "<b>Lovely</b>" not in html


def test_a_score_in_the_link_is_chosen_and_only_asks_to_confirm(app, client, invited):
    member, token = invited
    html = client.get(f"/surveys/{token}?score=7").get_data(as_text=True)
    assert 'id="survey-send"' in html and 'name="score" value="7" class="button' in html
    assert re.search(r'value="7"[^>]*\n?[^>]*survey-score-chosen', html)
    assert answers(app) == []  # opening the link answers nothing: a mail scanner may follow it
    post_form(client, f"/surveys/{token}", {"score": "7", "comment": "Queue was long"},
              form_url=f"/surveys/{token}?score=7")
    assert answers(app) == [(member.id, 7, "Queue was long")]


@pytest.mark.parametrize("score", ["11", "-1", "", "abc", "999"])
def test_a_score_off_the_scale_is_refused_with_a_message(app, client, invited, score):
    _, token = invited
    refused = post_form(client, f"/surveys/{token}", {"score": score})
    assert refused.status_code == 422
    assert 'id="score-error"' in refused.get_data(as_text=True)
    assert answers(app) == []


def test_a_persian_digit_score_counts(app, client, invited):
    member, token = invited
    post_form(client, f"/surveys/{token}", {"score": "۸"})
    assert answers(app) == [(member.id, 8, None)]


def test_an_unknown_token_is_a_404_page(client, invited):
    _, token = invited
    for wrong in (token[:-2] + "zz", "x" * 200, "nope"):
        page = client.get(f"/surveys/{wrong}")
        assert page.status_code == 404
        assert "<html" in page.get_data(as_text=True)
    assert client.post("/surveys/nope", data={"score": "5"}).status_code in (400, 404)


def test_an_answer_without_the_csrf_token_is_refused(app, client, invited):
    _, token = invited
    assert client.post(f"/surveys/{token}", data={"score": "5"}).status_code == 400
    assert answers(app) == []


def test_a_closed_survey_says_so(app, client, make_member):
    member = make_member(locale="en")
    survey_id = active_survey(app)
    token = send(app, survey_id)[member.id]

    def close(s):
        from datetime import UTC, datetime

        from webapp.services import surveys
        from webapp.services.members import audit

        surveys.close_survey(s, survey_id, actor=audit.CLI, now=datetime.now(UTC))
        s.commit()

    in_db(app, close)
    page = client.get(f"/surveys/{token}")
    assert page.status_code == 200 and "This survey is closed" in text(page.get_data(as_text=True))
    assert post_form(client, f"/surveys/{token}", {"score": "5"}).status_code == 422
    assert answers(app) == []


def test_the_survey_pages_are_rate_limited(app, client, invited):
    _, token = invited
    app.config["SURVEY_RATE_LIMIT"] = "5 per minute"
    codes = [client.get(f"/surveys/{token}x").status_code for _ in range(6)]
    assert codes[:5] == [404] * 5 and codes[5] == 429


def test_the_inbox_message_links_each_score(app, client, invited):
    member, token = invited
    log_in(client, member.email)
    html = client.get("/me/inbox").get_data(as_text=True)
    assert f'href="/surveys/{token}?score=10"' in html and f'href="/surveys/{token}?score=0"' in html
