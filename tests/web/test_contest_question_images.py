"""Quiz question pictures: staff upload one with the question (judged by its
content, at most 1 MB), members see it when the question is served, staff can
replace or remove it, and a refused upload keeps nothing on disk."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from tests.factories import make_quiz
from tests.helpers.web import PNG, csrf_token, post_form, sign_in_staff
from webapp.extensions import db
from webapp.models import ContestQuestion

PASSWORD = "a-good-password-1"
QUESTION = {"text_fa": "این کجاست؟", "text_en": "Where is this?", "options_fa-0": "تهران",
            "options_en-0": "Tehran", "options_fa-1": "شیراز", "options_en-1": "Shiraz", "correct": "1",
            "time_limit": "20"}


def draft_quiz(app) -> int:
    with app.app_context():
        contest = make_quiz(db.session, datetime.now(UTC), questions=0, publish=False)
        db.session.commit()
        return contest.id


def upload(client, url, picture, **extra):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **QUESTION, **extra,
                                  "image": picture}, content_type="multipart/form-data")


def stored(app, contest_id):
    with app.app_context():
        return db.session.query(ContestQuestion).filter_by(contest_id=contest_id).one()


def pictures(app) -> set[str]:
    from webapp.uploads import uploads_dir

    with app.app_context():
        folder = uploads_dir("contests")
    return set(folder.iterdir()) if folder.is_dir() else set()


def test_a_question_picture_is_shown_to_members_only_with_the_question(app, client, make_staff, make_member):
    contest_id = draft_quiz(app)
    sign_in_staff(client, make_staff("marketer"))
    response = upload(client, f"/admin/contests/{contest_id}/questions/new", (io.BytesIO(PNG), "map.gif"))
    assert response.status_code == 302, response.get_data(as_text=True)
    name = stored(app, contest_id).image
    assert name.endswith(".png") and "map" not in name
    assert post_form(client, f"/admin/contests/{contest_id}/publish", {},
                     form_url=f"/admin/contests/{contest_id}").status_code == 302

    member_client = app.test_client()
    member = make_member(password=PASSWORD)
    post_form(member_client, "/login", {"login": member.email, "password": PASSWORD})
    intro = member_client.get(f"/contests/{contest_id}").get_data(as_text=True)
    assert name not in intro  # not before the question is served
    post_form(member_client, f"/contests/{contest_id}/start", {}, form_url=f"/contests/{contest_id}")
    page = member_client.get(f"/contests/{contest_id}/play").get_data(as_text=True)
    assert re.search(rf'<img class="quiz-image" src="/contests/image/{name}"', page)
    picture = member_client.get(f"/contests/image/{name}")
    assert picture.status_code == 200 and picture.data == PNG
    assert picture.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_that_is_not_a_picture_or_too_big_is_a_form_error_and_nothing_is_kept(app, client, make_staff):
    contest_id = draft_quiz(app)
    sign_in_staff(client, make_staff("marketer"))
    before = pictures(app)
    svg = upload(client, f"/admin/contests/{contest_id}/questions/new", (io.BytesIO(b"<svg onload=1>"), "x.png"))
    assert svg.status_code == 422 and "Upload a PNG, JPEG or WebP picture." in svg.get_data(as_text=True)
    big = upload(client, f"/admin/contests/{contest_id}/questions/new",
                 (io.BytesIO(PNG + b"\0" * (1024 * 1024)), "big.png"))
    assert big.status_code == 422 and "larger than 1 MB" in big.get_data(as_text=True)
    # a valid picture with an invalid question is not kept either
    bad_question = client.post(
        f"/admin/contests/{contest_id}/questions/new",
        data={"csrf_token": csrf_token(client, f"/admin/contests/{contest_id}/questions/new"),
              **{**QUESTION, "options_fa-1": "", "options_en-1": ""}, "image": (io.BytesIO(PNG), "a.png")},
        content_type="multipart/form-data")
    assert bad_question.status_code == 422
    with app.app_context():
        assert db.session.query(ContestQuestion).filter_by(contest_id=contest_id).count() == 0
    assert pictures(app) == before


def test_staff_replace_and_remove_a_question_picture(app, client, make_staff):
    contest_id = draft_quiz(app)
    sign_in_staff(client, make_staff("marketer"))
    upload(client, f"/admin/contests/{contest_id}/questions/new", (io.BytesIO(PNG), "a.png"))
    question = stored(app, contest_id)
    url = f"/admin/contests/{contest_id}/questions/{question.id}"
    assert f"/contests/image/{question.image}" in client.get(url).get_data(as_text=True)
    # saving without a new file keeps the picture
    assert upload(client, url, (io.BytesIO(b""), "")).status_code == 302
    assert stored(app, contest_id).image == question.image
    assert upload(client, url, (io.BytesIO(b""), ""), remove_image="y").status_code == 302
    assert stored(app, contest_id).image is None
