"""Contests through the test client: staff create and publish a quiz; members
play it one question at a time (server timing, the right option hidden until
answered, replays that score nothing, one attempt, the fee once); the board;
the finalise job; predictions; authorization, CSRF, bad input, both locales."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from tests.factories import make_prediction, make_quiz
from tests.helpers.web import (
    MEMBER_PASSWORD,
    csrf_token,
    post_form,
    sign_in_new_member,
    sign_in_staff,
)
from webapp.extensions import db
from webapp.models import Contest, ContestAnswer, ContestEntry, InboxMessage, LedgerEntry
from webapp.services import ledger

PASSWORD = MEMBER_PASSWORD
HX = {"HX-Request": "true"}


def sign_in(client, make_member, points=0, **kw):
    return sign_in_new_member(client, make_member, points, **kw)


@pytest.fixture
def quiz(app):
    def make(**kw):
        with app.app_context():
            contest = make_quiz(db.session, datetime.now(UTC), **kw)
            db.session.commit()
            return contest.id
    return make


def play_page(client, cid):
    return client.get(f"/contests/{cid}/play").get_data(as_text=True)


def question_of(html):
    return int(re.search(r'name="question" value="(\d+)"', html).group(1))


def answer(client, cid, qid, option, **kw):
    return client.post(f"/contests/{cid}/answer", data={"csrf_token": csrf_token(client, f"/contests/{cid}"),
                                                        "question": qid, "option": option}, **kw)


def correct_option(app, qid):
    from webapp.models import ContestQuestion
    with app.app_context():
        return db.session.get(ContestQuestion, qid).correct_option


def test_staff_create_a_quiz_with_questions_and_publish_it(app, client, make_staff):
    sign_in_staff(client, make_staff("marketer"))
    today = datetime.now(ZoneInfo("Asia/Tehran")).date()
    response = post_form(client, "/admin/contests/new/quiz", {
        "name_fa": "مسابقهٔ هفته", "name_en": "Quiz of the week", "opens_on": today.isoformat(),
        "opens_time": "00:00", "closes_on": (today + timedelta(days=3)).isoformat(), "closes_time": "۲۰:۰۰",
        "entry_cost": "0", "participation_points": "25",
        "prizes-0-rank_from": "1", "prizes-0-rank_to": "1", "prizes-0-kind": "points", "prizes-0-amount": "5000",
        "prizes-1-rank_from": "2", "prizes-1-rank_to": "3", "prizes-1-kind": "credit", "prizes-1-amount": "1000",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    for i in range(2):
        response = post_form(client, f"/admin/contests/{cid}/questions/new", {
            "text_fa": f"پرسش {i}", "text_en": f"Question {i}", "options_fa-0": "یک", "options_en-0": "One",
            "options_fa-1": "دو", "options_en-1": "Two", "correct": "1", "time_limit": "20"})
        assert response.status_code == 302
    # a question with one option is a form error, not a 500
    bad = post_form(client, f"/admin/contests/{cid}/questions/new", {
        "text_fa": "پ", "text_en": "Q", "options_fa-0": "یک", "options_en-0": "One", "correct": "0",
        "time_limit": "20"})
    assert bad.status_code == 422 and "Give 2 to 6 options." in bad.get_data(as_text=True)
    response = post_form(client, f"/admin/contests/{cid}/publish", {}, form_url=f"/admin/contests/{cid}")
    assert response.status_code == 302
    with app.app_context():
        contest = db.session.get(Contest, cid)
        assert contest.status == "published" and contest.participation_points == 25
        assert [p["kind"] for p in contest.prizes] == ["points", "credit"]
        assert contest.closes_at == datetime(today.year, today.month, today.day, 20, 0,
                                             tzinfo=ZoneInfo("Asia/Tehran")) + timedelta(days=3)
    page = client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert "Question 1" in page


def test_admin_contest_form_refuses_bad_input_without_a_500(client, make_staff):
    sign_in_staff(client, make_staff("marketer"))
    response = post_form(client, "/admin/contests/new/quiz", {
        "name_fa": "", "name_en": "x", "opens_on": "1405-13-40", "opens_time": "25:00",
        "closes_on": "x", "closes_time": "", "entry_cost": "-5", "participation_points": "abc"})
    assert response.status_code == 422
    assert client.get("/admin/contests/new/lottery").status_code == 404


@pytest.mark.parametrize(("prizes", "words"), [
    ({"prizes-0-rank_from": "1", "prizes-0-rank_to": "3", "prizes-0-kind": "points", "prizes-0-amount": "500",
      "prizes-1-rank_from": "3", "prizes-1-rank_to": "5", "prizes-1-kind": "credit", "prizes-1-amount": "100"},
     "Two prizes cover the same rank: their ranges overlap."),
    ({"prizes-0-rank_from": "4", "prizes-0-rank_to": "2", "prizes-0-kind": "points", "prizes-0-amount": "500"},
     "Ranks start at 1, and a range ends at or after its first rank (10,000 at most)."),
])
def test_the_contest_form_says_which_prize_rule_was_broken(client, make_staff, prizes, words):
    sign_in_staff(client, make_staff("marketer"))
    today = datetime.now(ZoneInfo("Asia/Tehran")).date()
    response = post_form(client, "/admin/contests/new/quiz", {
        "name_fa": "مسابقه", "name_en": "Quiz", "opens_on": today.isoformat(), "opens_time": "00:00",
        "closes_on": (today + timedelta(days=3)).isoformat(), "closes_time": "20:00", "entry_cost": "0",
        "participation_points": "0", **prizes})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)


def test_members_cannot_reach_staff_contest_pages(client, make_member):
    sign_in(client, make_member)
    assert client.get("/admin/contests").status_code in (302, 403)


def test_play_a_quiz_one_question_at_a_time_with_server_timing(app, client, make_member, quiz):
    cid = quiz(questions=2, entry_cost=100)
    member = sign_in(client, make_member, points=300)
    page = client.get(f"/contests/{cid}").get_data(as_text=True)
    assert 'id="quiz-start"' in page
    assert post_form(client, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}").status_code == 302
    assert post_form(client, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}").status_code == 302
    html = play_page(client, cid)
    qid = question_of(html)
    assert "Question 1 of 2" in html
    # nothing on the page tells the right option apart from the others
    buttons = re.findall(r'<button type="submit" name="option" value="\d" class="([^"]+)">', html)
    assert len(buttons) == 3 and len(set(buttons)) == 1 and "correct" not in html.split('id="quiz-play"')[1]
    # a reload serves the same question, clock kept
    assert question_of(play_page(client, cid)) == qid
    with app.app_context():  # the member thought for 4 s (the server's clock decides)
        served = db.session.scalar(select(ContestAnswer).where(ContestAnswer.question_id == qid))
        served.served_at -= timedelta(seconds=4)
        db.session.commit()
    right = correct_option(app, qid)
    result = answer(client, cid, qid, right, headers=HX).get_data(as_text=True)
    assert "Right! +" in result and 'id="quiz-correct"' in result
    with app.app_context():
        row = db.session.scalar(select(ContestAnswer).where(ContestAnswer.question_id == qid))
        assert 4000 <= row.elapsed_ms < 5000 and row.points == 100 + 100 * (20_000 - row.elapsed_ms) // 20_000
        first_points = row.points
    # the back button and the same POST again: the first answer counts
    replay = answer(client, cid, qid, (right + 1) % 3).get_data(as_text=True)
    assert "your first answer counts" in replay
    html = play_page(client, cid)
    qid2 = question_of(html)
    assert qid2 != qid and "Question 2 of 2" in html
    done = answer(client, cid, qid2, (correct_option(app, qid2) + 1) % 3).get_data(as_text=True)
    assert "You finished with" in done
    page = client.get(f"/contests/{cid}").get_data(as_text=True)
    assert f"You scored {first_points} points." in page
    assert "Your rank: 1 with" in page and 'hx-trigger="every 5s"' in page
    # one attempt only, the fee once
    again = post_form(client, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}")
    assert again.status_code == 302
    with app.app_context():
        assert ledger.balance_of(db.session, member.id, "points") == 200
        fees = db.session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member.id,
                                                            LedgerEntry.amount < 0)).all()
        assert len(fees) == 1


def test_bad_answers_are_4xx_and_csrf_is_required(app, client, make_member, quiz):
    cid = quiz(questions=1)
    sign_in(client, make_member)
    assert client.post(f"/contests/{cid}/start", data={}).status_code == 400
    post_form(client, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}")
    qid = question_of(play_page(client, cid))
    assert answer(client, cid, qid, 9).status_code == 400
    assert answer(client, cid, qid, "x").status_code == 400
    assert answer(client, cid, qid + 1000, 0).status_code == 404
    assert client.post(f"/contests/{cid}/answer", data={"question": qid, "option": 0}).status_code == 400
    assert client.get("/contests/99999999999").status_code == 404
    assert client.get("/contests/424242").status_code == 404


def test_a_closed_quiz_refuses_to_start(app, client, make_member, quiz):
    now = datetime.now(UTC)
    cid = quiz(opens=now - timedelta(hours=2), closes=now - timedelta(hours=1), publish=False)
    with app.app_context():
        db.session.execute(update(Contest).where(Contest.id == cid).values(status="published"))
        db.session.commit()
    sign_in(client, make_member)
    page = client.get(f"/contests/{cid}").get_data(as_text=True)
    assert "This quiz is closed." in page
    response = post_form(client, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}")
    assert response.status_code == 409 and "not open now" in response.get_data(as_text=True)


def test_a_member_never_sees_another_members_answers(app, client, make_member, quiz):
    cid = quiz(questions=1)
    sign_in(client, make_member)
    post_form(client, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}")
    qid = question_of(play_page(client, cid))
    other = app.test_client()
    sign_in(other, make_member)
    # the other member has no attempt: the question was never served to them
    assert answer(other, cid, qid, 0).status_code == 404
    assert "quiz-review" not in other.get(f"/contests/{cid}").get_data(as_text=True)


def test_the_board_partial_and_the_finalise_job_award_prizes_once(app, client, make_member, quiz, run_worker):
    from webapp.jobs.contests import finalise_due_contests
    from webapp.services.play import contests as service

    cid = quiz(questions=1, participation=10, prizes=[service.Prize(1, 1, "points", 500)])
    members = []
    for i in range(3):
        c = app.test_client()
        members.append(sign_in(c, make_member, display_name=f"Player{i}"))
        post_form(c, f"/contests/{cid}/start", {}, form_url=f"/contests/{cid}")
        qid = question_of(play_page(c, cid))
        answer(c, cid, qid, correct_option(app, qid) if i == 1 else (correct_option(app, qid) + 1) % 3)
    board = c.get(f"/contests/{cid}/board", headers=HX).get_data(as_text=True)
    assert "Player1" in board and 'hx-trigger="every 5s"' in board
    with app.app_context():
        db.session.execute(update(Contest).where(Contest.id == cid)
                           .values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    for _ in range(2):
        with app.app_context():
            finalise_due_contests()
        run_worker()
    with app.app_context():
        contest = db.session.get(Contest, cid)
        assert contest.status == "finalised"
        ranks = dict(db.session.execute(select(ContestEntry.member_id, ContestEntry.final_rank)).all())
        assert ranks[members[1].id] == 1
        keys = db.session.scalars(select(LedgerEntry.idempotency_key)
                                  .where(LedgerEntry.idempotency_key.like(f"contest:{cid}:%"))).all()
        assert sorted(keys) == sorted([f"contest:{cid}:prize:{members[1].id}"]
                                      + [f"contest:{cid}:played:{m.id}" for m in members])
        assert len(db.session.scalars(select(InboxMessage).where(InboxMessage.kind == "contest_result")).all()) == 3
        assert ledger.find_mismatches(db.session) == []
    board = c.get(f"/contests/{cid}/board", headers=HX).get_data(as_text=True)
    assert "every 5s" not in board and "Final ranking" in board
    inbox = c.get("/me/inbox").get_data(as_text=True)
    assert "has ended: you are number" in inbox


def test_predict_edit_before_the_deadline_and_refused_after(app, client, make_member, make_staff):
    now = datetime.now(UTC)
    with app.app_context():
        cid = make_prediction(db.session, now).id
        db.session.commit()
    member = sign_in(client, make_member)
    page = client.get(f"/contests/{cid}").get_data(as_text=True)
    assert 'name="value_1"' in page
    assert post_form(client, f"/contests/{cid}/predict", {"value_0": "۱", "value_1": "1"},
                     form_url=f"/contests/{cid}").status_code == 302
    assert post_form(client, f"/contests/{cid}/predict", {"value_0": "2", "value_1": "1"},
                     form_url=f"/contests/{cid}").status_code == 302
    bad = post_form(client, f"/contests/{cid}/predict", {"value_0": "99", "value_1": "x"},
                    form_url=f"/contests/{cid}")
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(ContestEntry.prediction).where(ContestEntry.member_id == member.id)) == [2, 1]
        db.session.execute(update(Contest).where(Contest.id == cid).values(closes_at=now - timedelta(seconds=1)))
        db.session.commit()
    late = post_form(client, f"/contests/{cid}/predict", {"value_0": "3", "value_1": "3"},
                     form_url=f"/contests/{cid}")
    assert late.status_code == 409
    staff = app.test_client()
    sign_in_staff(staff, make_staff("marketer"))
    assert post_form(staff, f"/admin/contests/{cid}/result", {"values-0": "2", "values-1": "1"},
                     form_url=f"/admin/contests/{cid}").status_code == 302
    assert post_form(staff, f"/admin/contests/{cid}/result", {"values-0": "x"},
                     form_url=f"/admin/contests/{cid}").status_code == 422
    from webapp.jobs.contests import finalise_contest
    with app.app_context():
        finalise_contest(cid)
        entry = db.session.scalar(select(ContestEntry).where(ContestEntry.member_id == member.id))
        assert (entry.score, entry.final_rank) == (100, 1)
    page = client.get(f"/contests/{cid}").get_data(as_text=True)
    assert "The result:" in page and "100 points, rank 1" in page and "Final ranking" in page
    standings = staff.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert 'id="admin-standings"' in standings and "Test Member" in standings


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_contest_pages_render_in_both_locales(app, client, make_member, quiz, locale):
    cid = quiz(questions=1)
    with app.app_context():
        make_prediction(db.session, datetime.now(UTC))
        db.session.commit()
    sign_in(client, make_member, locale=locale)
    listing = client.get("/contests")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert 'class="games-tabs"' in html and 'id="play-streak"' in html
    if locale == "fa":
        assert "مسابقه" in html and "The quiz" not in html
    page = client.get(f"/contests/{cid}").get_data(as_text=True)
    assert "style=" not in page
