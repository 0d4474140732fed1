"""/feedback as a member uses it: write to the club (with a picture judged by
its content), read and answer one's own threads only, never see staff notes;
CSRF on every form, refused pictures and too many messages answered with a
clear sentence on the form (what was typed is kept), never a 500."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.helpers.web import MEMBER_PASSWORD, PNG, csrf_token, in_db, log_in, post_form, text
from webapp.models import FeedbackPost, FeedbackThread, utcnow
from webapp.services import feedback
from webapp.services.members import audit


def write(client, body="Where can I park?", category="question", picture=None, url="/feedback"):
    data = {"csrf_token": csrf_token(client, url), "category": category, "body": body}
    if picture is not None:
        data["picture"] = picture
    return client.post(url, data=data, content_type="multipart/form-data")


def count(app, model=FeedbackThread):
    return in_db(app, lambda s: s.scalar(select(func.count()).select_from(model)))


def pictures(app) -> set[str]:
    from webapp.uploads import uploads_dir

    with app.app_context():
        folder = uploads_dir("feedback")
        return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.fixture
def member(client, make_member):
    made = make_member(password=MEMBER_PASSWORD, display_name="Sara")
    log_in(client, made.email)
    return made


def staff_answers(app, thread_id, body="We open at 9.", note=None):
    from tests import factories

    def answer(session):
        actor = audit.Actor.of_staff(factories.staff(session, "operator"))
        if note:
            feedback.add_note(session, thread_id=thread_id, body=note, actor=actor, now=utcnow())
        feedback.staff_reply(session, thread_id=thread_id, body=body, actor=actor, now=utcnow())
        session.commit()

    in_db(app, answer)


def test_a_member_writes_to_the_club_and_finds_the_thread_listed(app, client, member):
    response = write(client, body="Where can I park?\nThe lot was full.")
    assert response.status_code == 302
    thread_url = response.headers["Location"]
    assert re.fullmatch(r"/feedback/\d+", thread_url)
    page = text(client.get(thread_url).get_data(as_text=True))
    assert "Where can I park?" in page and "The lot was full." in page and "Sent" in page
    listing = text(client.get("/feedback").get_data(as_text=True))
    assert "Where can I park?" in listing and "Question" in listing


def test_the_feedback_page_needs_a_member(client):
    response = client.get("/feedback")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_posting_without_the_csrf_token_is_refused_and_saves_nothing(app, client, member):
    response = client.post("/feedback", data={"category": "question", "body": "Hi"})
    assert response.status_code == 400
    assert count(app) == 0


def test_a_member_cannot_read_or_answer_someone_elses_thread(app, client, member, make_member):
    other = make_member(password=MEMBER_PASSWORD)
    theirs = in_db(app, lambda s: (feedback.open_thread(s, member_id=other.id, category="complaint",
                                                          body="Private matter", now=utcnow()), s.commit())[0].id)
    assert client.get(f"/feedback/{theirs}").status_code == 404
    token = csrf_token(client, "/feedback")
    response = client.post(f"/feedback/{theirs}", data={"csrf_token": token, "body": "Let me in"})
    assert response.status_code == 404
    assert count(app, FeedbackPost) == 1
    assert client.get(f"/feedback/{theirs}/pictures/1").status_code == 404
    assert client.get("/feedback/99999999999999999999").status_code == 404
    assert "Private matter" not in client.get("/feedback").get_data(as_text=True)


def test_the_member_answers_back_and_reopens_a_closed_thread(app, client, member):
    thread_url = write(client, body="Is there wifi?").headers["Location"]
    thread_id = int(thread_url.rsplit("/", 1)[1])
    staff_answers(app, thread_id, body="Yes: the password is on the menu.")

    def close(session):
        from tests import factories
        feedback.set_status(session, thread_id=thread_id, status="closed",
                            actor=audit.Actor.of_staff(factories.staff(session)), now=utcnow())
        session.commit()

    in_db(app, close)
    response = post_form(client, thread_url, {"body": "It does not work"})
    assert response.status_code == 302
    page = text(client.get(thread_url).get_data(as_text=True))
    assert "Yes: the password is on the menu." in page and "It does not work" in page
    assert in_db(app, lambda s: s.get(FeedbackThread, thread_id).status) == "open"


def test_internal_notes_never_show_to_the_member_and_a_reply_reaches_the_inbox(app, client, member):
    thread_id = int(write(client, body="Cold coffee").headers["Location"].rsplit("/", 1)[1])
    staff_answers(app, thread_id, body="Sorry! A free cup next time.", note="SECRET-NOTE barista")
    page = client.get(f"/feedback/{thread_id}").get_data(as_text=True)
    assert "Sorry! A free cup next time." in page and "SECRET-NOTE" not in page
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "The club answered your message" in inbox and f"/feedback/{thread_id}" in inbox
    assert "Sorry! A free cup next time." in inbox and "SECRET-NOTE" not in inbox


def test_message_text_is_escaped_everywhere_the_member_sees_it(app, client, member):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    thread_url = write(client, body=evil).headers["Location"]
    staff_answers(app, int(thread_url.rsplit("/", 1)[1]), body=f"Reply {evil}")
    for url in (thread_url, "/feedback", "/me/inbox"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_picture_is_kept_and_shown_only_to_its_member(app, client, member, make_member):
    thread_url = write(client, picture=(io.BytesIO(PNG), "receipt.png")).headers["Location"]
    html = client.get(thread_url).get_data(as_text=True)
    src = re.search(r'<img src="(/feedback/\d+/pictures/\d+)"', html).group(1)
    picture = client.get(src)
    assert picture.status_code == 200 and picture.data == PNG
    assert "no-store" in picture.headers["Cache-Control"] and "public" not in picture.headers["Cache-Control"]
    client.get("/logout")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    other = make_member(password=MEMBER_PASSWORD)
    log_in(client, other.email)
    assert client.get(src).status_code == 404


@pytest.mark.parametrize(("upload", "words"), [
    ((io.BytesIO(b"GIF89a" + b"\x00" * 64), "anim.gif"), "Only PNG, JPEG or WebP pictures can be sent"),
    ((io.BytesIO(b"MZ" + b"\x00" * 64), "photo.png"), "Only PNG, JPEG or WebP pictures can be sent"),
    ((io.BytesIO(PNG + b"\x00" * (3 * 1024 * 1024)), "big.png"), "The picture is larger than 1 MB"),
])
def test_a_refused_picture_is_said_on_the_form_and_the_text_is_kept(app, client, member, upload, words):
    kept = pictures(app)  # the instance folder outlives one test
    response = write(client, body="My long story about the visit", picture=upload)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in text(html)
    assert "My long story about the visit" in html  # nothing typed is lost
    assert count(app) == 0 and pictures(app) == kept


def test_a_picture_far_too_large_for_any_form_gets_the_too_large_page_not_a_500(app, client, member):
    response = write(client, picture=(io.BytesIO(PNG + b"\x00" * (9 * 1024 * 1024)), "huge.png"))
    assert response.status_code == 413
    assert "too large" in text(response.get_data(as_text=True))
    assert count(app) == 0


def test_an_empty_message_or_no_category_is_refused_with_words(app, client, member):
    response = write(client, body="   ", category="")
    assert response.status_code == 422
    page = text(response.get_data(as_text=True))
    assert "Write your message." in page and "Choose what your message is about." in page
    assert write(client, category="praise").status_code == 422
    assert count(app) == 0


def test_too_many_messages_get_a_clear_answer_with_the_text_kept(app, client, member):
    app.config["FEEDBACK_RATE_LIMIT"] = "2 per minute"
    assert [write(client, body=f"Message {n}").status_code for n in range(2)] == [302, 302]
    blocked = write(client, body="The third one")
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "You have sent several messages in a short time" in text(html) and "The third one" in html
    thread_url = f"/feedback/{in_db(app, lambda s: s.scalar(select(func.min(FeedbackThread.id))))}"
    assert post_form(client, thread_url, {"body": "A reply"}).status_code == 429  # replies count too
    assert count(app) == 2 and count(app, FeedbackPost) == 2


def test_a_refused_form_does_not_count_against_the_limit(app, client, member):
    app.config["FEEDBACK_RATE_LIMIT"] = "1 per minute"
    assert write(client, body=" ").status_code == 422
    assert write(client, body="Now for real").status_code == 302


def test_the_feedback_page_is_linked_from_the_dashboard_and_navigation(client, member):
    html = client.get("/me").get_data(as_text=True)
    assert html.count('href="/feedback"') >= 2


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_feedback_pages_speak_the_members_language(app, client, make_member, locale):
    made = make_member(password=MEMBER_PASSWORD, locale=locale)
    log_in(client, made.email)
    thread_url = write(client, body="سلام، ساعت کاری؟").headers["Location"]
    for url in ("/feedback", thread_url):
        html = client.get(url).get_data(as_text=True)
        assert f'lang="{locale}"' in html and f'dir="{"rtl" if locale == "fa" else "ltr"}"' in html


def test_only_the_feedback_forms_take_a_larger_body(client, member):
    token = csrf_token(client, "/me/settings")
    big = {"csrf_token": token, "display_name": "x" * (3 * 1024 * 1024)}
    assert client.post("/me/settings", data=big).status_code == 413
