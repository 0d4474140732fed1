"""/admin/feedback as staff use it: threads filtered by status and assignment
with counts; owners and operators reply (the member is told), keep internal
notes (set apart, never sent), assign and change the status, each write in the
audit log; marketers and auditors only read; pictures only through the staff
route; everything escaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.helpers.web import PNG, csrf_token, in_db, sign_in_staff, text
from webapp.models import AuditLog, FeedbackPost, FeedbackThread, OutboxMessage, utcnow
from webapp.services import feedback


def open_thread(app, member_id, body="Where is my coupon?", category="question", picture=None):
    def make(session):
        thread = feedback.open_thread(session, member_id=member_id, category=category, body=body, now=utcnow(),
                                      picture=picture)
        session.commit()
        return thread.id

    return in_db(app, make)


def act(client, thread_id, action, data):
    url = f"/admin/feedback/{thread_id}"
    token = csrf_token(client, url)
    return client.post(f"{url}/{action}", data={"csrf_token": token, **data})


@pytest.fixture
def thread_id(app, make_member):
    return open_thread(app, make_member(display_name="Sara").id)


@pytest.mark.parametrize("role", ["owner", "operator"])
def test_owners_and_operators_reply_and_the_member_is_told(app, client, make_staff, thread_id, role):
    sign_in_staff(client, make_staff(role))
    response = act(client, thread_id, "reply", {"reply-body": "It is in your coupons."})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "It is in your coupons." in page
    thread = in_db(app, lambda s: s.get(FeedbackThread, thread_id))
    assert thread.status == "answered"
    kinds = in_db(app, lambda s: s.scalars(select(OutboxMessage.channel).where(
        OutboxMessage.kind == "feedback_reply")).all())
    assert sorted(kinds) == ["email", "inbox", "push"]
    assert in_db(app, lambda s: s.scalar(select(AuditLog.action).where(AuditLog.object_type == "feedback_thread"))) \
        == "feedback.reply"


@pytest.mark.parametrize("role", ["marketer", "auditor"])
def test_marketers_and_auditors_read_but_cannot_write(app, client, make_staff, thread_id, role):
    sign_in_staff(client, make_staff(role))
    assert client.get("/admin/feedback").status_code == 200
    page = client.get(f"/admin/feedback/{thread_id}").get_data(as_text=True)
    assert "Where is my coupon?" in page and 'id="read-only"' in page and "/reply" not in page
    token = csrf_token(client, "/admin/feedback")
    for action, data in (("reply", {"reply-body": "x"}), ("note", {"note-body": "x"}),
                         ("status", {"status": "closed"}), ("assign", {"staff": ""})):
        assert client.post(f"/admin/feedback/{thread_id}/{action}",
                           data={"csrf_token": token, **data}).status_code == 403
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(FeedbackPost))) == 1


def test_the_feedback_pages_need_a_staff_sign_in(client, thread_id):
    for url in ("/admin/feedback", f"/admin/feedback/{thread_id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_internal_notes_are_set_apart_and_never_sent(app, client, make_staff, thread_id):
    sign_in_staff(client, make_staff("operator"))
    assert act(client, thread_id, "note", {"note-body": "Check the POS log"}).status_code == 302
    html = client.get(f"/admin/feedback/{thread_id}").get_data(as_text=True)
    note = re.search(r'<li class="post post-staff post-internal"[^>]*>(.*?)</li>', html, re.S)
    assert note and "Check the POS log" in note.group(1) and "Internal note" in note.group(1)
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(OutboxMessage))) == 0
    assert in_db(app, lambda s: s.get(FeedbackThread, thread_id).status) == "open"


def test_assign_and_status_changes_are_audited_and_wrong_moves_refused(app, client, make_staff, thread_id):
    owner, operator = make_staff("owner"), make_staff("operator")
    sign_in_staff(client, owner)
    assert act(client, thread_id, "assign", {"staff": str(operator.id)}).status_code == 302
    assert act(client, thread_id, "status", {"status": "closed"}).status_code == 302
    refused = act(client, thread_id, "status", {"status": "answered"})  # closed → answered is not a move
    assert refused.status_code == 422
    assert "cannot move to that status" in text(refused.get_data(as_text=True))
    assert act(client, thread_id, "assign", {"staff": "999"}).status_code == 422
    thread = in_db(app, lambda s: s.get(FeedbackThread, thread_id))
    assert (thread.status, thread.assigned_staff_id) == ("closed", operator.id)
    rows = in_db(app, lambda s: s.execute(select(AuditLog.action, AuditLog.staff_id).where(
        AuditLog.object_type == "feedback_thread").order_by(AuditLog.id)).all())
    assert [tuple(r) for r in rows] == [("feedback.assign", owner.id), ("feedback.status", owner.id)]


def test_staff_writes_need_the_csrf_token(app, client, make_staff, thread_id):
    sign_in_staff(client, make_staff("owner"))
    response = client.post(f"/admin/feedback/{thread_id}/reply", data={"reply-body": "No token"})
    assert response.status_code == 400
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(FeedbackPost))) == 1


def test_the_list_filters_by_status_and_assignment_with_counts(app, client, make_staff, make_member):
    me = make_staff("owner")
    member = make_member(display_name="Reza")
    first, second, third = (open_thread(app, member.id, body=f"Thread {n}") for n in range(3))
    sign_in_staff(client, me)
    act(client, first, "assign", {"staff": str(me.id)})
    act(client, second, "status", {"status": "closed"})
    html = client.get("/admin/feedback").get_data(as_text=True)
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', html))
    assert counts == {"new": "1", "open": "1", "answered": "0", "closed": "1"}
    assert "Reza" in html
    only_new = text(client.get("/admin/feedback?status=new").get_data(as_text=True))
    assert "Thread 2" in only_new and "Thread 0" not in only_new and "Thread 1" not in only_new
    mine = text(client.get("/admin/feedback?assigned=mine").get_data(as_text=True))
    assert "Thread 0" in mine and "Thread 1" not in mine
    unassigned = text(client.get("/admin/feedback?assigned=unassigned").get_data(as_text=True))
    assert "Thread 0" not in unassigned and "Thread 1" in unassigned and "Thread 2" in unassigned
    assert client.get("/admin/feedback?status=bogus&assigned=bogus&page=x").status_code == 200


def test_member_text_is_escaped_on_staff_pages(app, client, make_staff, make_member):
    evil = "<script>alert(1)</script>"
    thread_id = open_thread(app, make_member(display_name="<b>Eve</b>").id, body=evil)
    sign_in_staff(client, make_staff("owner"))
    for url in ("/admin/feedback", f"/admin/feedback/{thread_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<b>Eve</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_staff_see_a_members_picture_only_through_the_staff_route(app, client, make_staff, make_member):
    from webapp.uploads import uploads_dir

    with app.app_context():
        folder = uploads_dir("feedback")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "staffview.png").write_bytes(PNG)
    thread_id = open_thread(app, make_member().id, picture="staffview.png")
    assert client.get(f"/admin/feedback/{thread_id}/pictures/1").status_code == 302  # not signed in
    sign_in_staff(client, make_staff("auditor"))
    html = client.get(f"/admin/feedback/{thread_id}").get_data(as_text=True)
    src = re.search(r'<img src="(/admin/feedback/\d+/pictures/\d+)"', html).group(1)
    picture = client.get(src)
    assert picture.status_code == 200 and picture.data == PNG and "no-store" in picture.headers["Cache-Control"]
    assert client.get(f"/admin/feedback/{thread_id}/pictures/999").status_code == 404
    assert client.get("/uploads/feedback/staffview.png").status_code == 404
    assert client.get("/static/../uploads/feedback/staffview.png").status_code == 404


def test_an_unknown_thread_is_a_404(client, make_staff):
    sign_in_staff(client, make_staff("owner"))
    assert client.get("/admin/feedback/12345").status_code == 404
    assert client.get("/admin/feedback/99999999999999999999").status_code == 404


def test_the_staff_navigation_links_to_feedback(client, make_staff):
    sign_in_staff(client, make_staff("auditor"))
    assert 'href="/admin/feedback"' in client.get("/admin/").get_data(as_text=True)
