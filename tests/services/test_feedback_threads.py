"""Feedback threads as services: a member opens one and writes back, staff
reply (the member is told once per reply), keep internal notes (never shown to
the member, never sent), assign and move the status along its transitions; the
`feedback_given` trigger earns once per thread under its rule's caps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.models import AuditLog, FeedbackThread, InboxMessage, OutboxMessage, RuleAward
from webapp.services import feedback
from webapp.services.feedback import staff as staff_side
from webapp.services.feedback import threads
from webapp.services.members import audit
from webapp.services.offers import earn_rules
from webapp.services.offers.rule_engine import Conditions, Rule


def feedback_rule(session, now, *, points=50, cap_points=None, cap_period=None):
    row = earn_rules.create_rule(session, Rule(
        id=None, family_id=None, trigger="feedback_given", name_fa="بازخورد", name_en="Feedback",
        effect="fixed", points=points, cap_points=cap_points, cap_period=cap_period,
        conditions=Conditions()), actor=audit.CLI, now=now)
    earn_rules.activate_rule(session, row.id, actor=audit.CLI, now=now)
    return row


@pytest.fixture
def owner(session):
    return audit.Actor.of_staff(factories.staff(session, "owner"))


def outbox(session, kind="feedback_reply"):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                .order_by(OutboxMessage.id)))


def test_opening_a_thread_keeps_the_first_post_and_its_first_line_as_subject(session, now):
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="question",
                                  body="  Where is the shop?\nI could not find it.  ", now=now, picture="a.png")
    assert (thread.status, thread.source, thread.subject) == ("new", "member", "Where is the shop?")
    assert thread.created_at == thread.updated_at == thread.last_member_at == now
    [post] = threads.member_posts(session, thread)
    assert (post.author, post.body, post.picture, post.internal) == (
        "member", "Where is the shop?\nI could not find it.", "a.png", False)


@pytest.mark.parametrize(("category", "body", "field", "code"), [
    ("praise", "hello", "category", "invalid_choice"),
    ("survey", "hello", "category", "invalid_choice"),  # only a survey's follow-up is one
    ("question", "   ", "body", "required"),
    ("question", "x" * (threads.MAX_BODY + 1), "body", "too_long"),
])
def test_a_thread_with_a_bad_category_or_text_is_refused(session, now, category, body, field, code):
    member = factories.member(session)
    with pytest.raises(feedback.FeedbackInvalid) as refused:
        feedback.open_thread(session, member_id=member.id, category=category, body=body, now=now)
    assert refused.value.problems == {field: code}
    assert session.scalar(select(func.count()).select_from(FeedbackThread)) == 0


def test_a_survey_answer_opens_its_follow_up_thread_once(session, now):
    member = factories.member(session)
    first = feedback.open_thread(session, member_id=member.id, category="survey", body="Too slow",
                                 now=now, survey_answer_id=7)
    again = feedback.open_thread(session, member_id=member.id, category="survey", body="Too slow",
                                 now=now + timedelta(minutes=1), survey_answer_id=7)
    assert again.id == first.id and first.source == "survey" and first.survey_answer_id == 7
    assert session.scalar(select(func.count()).select_from(FeedbackThread)) == 1


def test_feedback_given_earns_once_per_thread_and_never_for_a_reply(session, now):
    feedback_rule(session, now, points=50)
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="suggestion", body="More tea", now=now)
    feedback.member_reply(session, thread_id=thread.id, member_id=member.id, body="And cake", now=now)
    feedback.open_thread(session, member_id=member.id, category="question", body="Hours?", now=now)
    made = list(session.scalars(select(RuleAward).where(RuleAward.member_id == member.id)))
    assert sorted(a.event_key for a in made) == ["feedback_given:1", "feedback_given:2"]
    assert session.get(type(member), member.id).points_balance == 100


def test_feedback_given_stays_under_the_rule_cap(session, now):
    feedback_rule(session, now, points=50, cap_points=80, cap_period="day")
    member = factories.member(session)
    for n in range(3):
        feedback.open_thread(session, member_id=member.id, category="complaint", body=f"Issue {n}",
                             now=now + timedelta(minutes=n))
    assert sorted(a.points for a in session.scalars(select(RuleAward))) == [30, 50]
    assert session.get(type(member), member.id).points_balance == 80


def test_a_survey_follow_up_does_not_earn_feedback_given(session, now):
    feedback_rule(session, now)
    member = factories.member(session)
    feedback.open_thread(session, member_id=member.id, category="survey", body="Bad", now=now,
                         survey_answer_id=3)
    assert session.scalar(select(func.count()).select_from(RuleAward)) == 0


def test_a_staff_reply_answers_the_thread_and_tells_the_member_once_per_reply(session, now, owner):
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="question", body="Open on Friday?", now=now)
    first = feedback.staff_reply(session, thread_id=thread.id, body="Yes, from 10 to 18.", actor=owner, now=now)
    assert thread.status == "answered" and thread.last_staff_at == now
    second = feedback.staff_reply(session, thread_id=thread.id, body="And on holidays too.", actor=owner, now=now)
    rows = outbox(session)
    assert {(r.key, r.channel) for r in rows} == {
        (f"feedback:{p.id}", c) for p in (first, second) for c in ("inbox", "email", "push")}
    inbox_row = next(r for r in rows if r.channel == "inbox" and r.key == f"feedback:{first.id}")
    assert inbox_row.params == {"thread_id": thread.id, "excerpt": "Yes, from 10 to 18.",
                                "path": f"/feedback/{thread.id}"}
    assert session.scalar(select(func.count()).select_from(InboxMessage)
                          .where(InboxMessage.kind == "feedback_reply")) == 2
    # the same reply's message again (a replayed request) writes nothing new
    from webapp.services import messages
    assert messages.notify(session, member_id=member.id, kind="feedback_reply", params=inbox_row.params,
                           key=f"feedback:{first.id}", now=now) == 0


def test_internal_notes_never_reach_the_member_view_or_their_messages(session, now, owner):
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="complaint", body="Cold coffee", now=now)
    note = feedback.add_note(session, thread_id=thread.id, body="Barista on leave; call him", actor=owner, now=now)
    assert note.internal and thread.status == "open"
    assert [p.body for p in threads.member_posts(session, thread)] == ["Cold coffee"]
    assert [p.body for p in staff_side.staff_posts(session, thread)] == ["Cold coffee", "Barista on leave; call him"]
    assert outbox(session) == []
    assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0


def test_a_member_reply_reopens_an_answered_or_closed_thread(session, now, owner):
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="question", body="Q", now=now)
    feedback.member_reply(session, thread_id=thread.id, member_id=member.id, body="Anyone?", now=now)
    assert thread.status == "new"  # nobody on staff saw it yet
    feedback.staff_reply(session, thread_id=thread.id, body="A", actor=owner, now=now)
    feedback.set_status(session, thread_id=thread.id, status="closed", actor=owner, now=now)
    later = now + timedelta(hours=1)
    feedback.member_reply(session, thread_id=thread.id, member_id=member.id, body="One more thing", now=later)
    assert (thread.status, thread.last_member_at, thread.updated_at) == ("open", later, later)


def test_a_member_cannot_reply_to_someone_elses_thread(session, now):
    alice, bob = factories.member(session), factories.member(session)
    thread = feedback.open_thread(session, member_id=alice.id, category="question", body="Mine", now=now)
    with pytest.raises(feedback.ThreadNotFound):
        feedback.member_reply(session, thread_id=thread.id, member_id=bob.id, body="Hi", now=now)
    with pytest.raises(feedback.ThreadNotFound):
        threads.member_thread(session, thread.id, bob.id)


@pytest.mark.parametrize(("path", "allowed"), [
    (["open"], True), (["answered"], True), (["closed"], True),
    (["open", "new"], False), (["closed", "answered"], False), (["closed", "open", "answered"], True),
    (["answered", "new"], False),
])
def test_staff_move_a_thread_only_along_the_transitions(session, now, owner, path, allowed):
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="question", body="Q", now=now)
    *before, last = path
    for status in before:
        feedback.set_status(session, thread_id=thread.id, status=status, actor=owner, now=now)
    if allowed:
        feedback.set_status(session, thread_id=thread.id, status=last, actor=owner, now=now)
        assert thread.status == last
    else:
        with pytest.raises(feedback.StatusConflict):
            feedback.set_status(session, thread_id=thread.id, status=last, actor=owner, now=now)


def test_assignment_goes_to_staff_who_can_answer_and_is_audited(session, now, owner):
    member = factories.member(session)
    operator = factories.staff(session, "operator")
    auditor = factories.staff(session, "auditor")
    thread = feedback.open_thread(session, member_id=member.id, category="question", body="Q", now=now)
    with pytest.raises(feedback.FeedbackInvalid):
        feedback.assign(session, thread_id=thread.id, staff_id=auditor.id, actor=owner, now=now)
    feedback.assign(session, thread_id=thread.id, staff_id=operator.id, actor=owner, now=now)
    assert (thread.assigned_staff_id, thread.status) == (operator.id, "open")
    feedback.assign(session, thread_id=thread.id, staff_id=None, actor=owner, now=now)
    assert thread.assigned_staff_id is None
    actions = list(session.scalars(select(AuditLog.action).where(AuditLog.object_type == "feedback_thread")
                                   .order_by(AuditLog.id)))
    assert actions == ["feedback.assign", "feedback.assign"]


def test_every_staff_write_is_audited(session, now, owner):
    member = factories.member(session)
    thread = feedback.open_thread(session, member_id=member.id, category="question", body="Q", now=now)
    feedback.add_note(session, thread_id=thread.id, body="n", actor=owner, now=now)
    feedback.staff_reply(session, thread_id=thread.id, body="r", actor=owner, now=now)
    feedback.set_status(session, thread_id=thread.id, status="closed", actor=owner, now=now)
    rows = list(session.scalars(select(AuditLog).where(AuditLog.object_type == "feedback_thread")
                                .order_by(AuditLog.id)))
    assert [r.action for r in rows] == ["feedback.note", "feedback.reply", "feedback.status"]
    assert rows[-1].before == {"status": "answered", "assigned_staff_id": None}
    assert rows[-1].staff_id == owner.staff.id


def test_staff_lists_filter_by_status_and_assignment_with_counts(session, now, owner):
    member = factories.member(session, display_name="Sara")
    me = owner.staff
    ids = [feedback.open_thread(session, member_id=member.id, category="question", body=f"Q{n}",
                                now=now + timedelta(minutes=n)).id for n in range(4)]
    feedback.assign(session, thread_id=ids[0], staff_id=me.id, actor=owner, now=now)
    feedback.staff_reply(session, thread_id=ids[1], body="A", actor=owner, now=now)
    feedback.set_status(session, thread_id=ids[2], status="closed", actor=owner, now=now)
    assert staff_side.status_counts(session) == {"new": 1, "open": 1, "answered": 1, "closed": 1}
    assert staff_side.status_counts(session, assigned="mine", staff_id=me.id)["open"] == 1
    rows, more = staff_side.staff_threads(session, status="new")
    assert [r.thread.id for r in rows] == [ids[3]] and rows[0].member_name == "Sara" and not more
    rows, _ = staff_side.staff_threads(session, assigned="mine", staff_id=me.id)
    assert [(r.thread.id, r.assigned_name) for r in rows] == [(ids[0], me.email)]
    rows, _ = staff_side.staff_threads(session, assigned="unassigned")
    assert sorted(r.thread.id for r in rows) == ids[1:]
    rows, more = staff_side.staff_threads(session, per_page=3)
    assert len(rows) == 3 and more


def test_a_closed_member_cannot_open_a_thread(session, now):
    member = factories.member(session)
    member.status = "closed"
    session.flush()
    with pytest.raises(Exception) as refused:
        feedback.open_thread(session, member_id=member.id, category="question", body="Q", now=now)
    assert refused.value.code == "member_not_active"


@pytest.mark.real_commits
def test_concurrent_follow_ups_of_one_survey_answer_make_one_thread(app, session, make_member, now):
    from tests.helpers.threads import run_together
    from webapp.extensions import db

    member = make_member()
    session.remove()
    outcomes = run_together(app, 8, lambda i: feedback.open_thread(
        db.session, member_id=member.id, category="survey", body=f"Slow service {i}", now=now,
        survey_answer_id=41).id)
    assert len(set(outcomes)) == 1 and all(isinstance(o, int) for o in outcomes), outcomes
    assert session.scalar(select(func.count()).select_from(FeedbackThread)) == 1
    assert session.scalar(select(func.count()).select_from(threads.FeedbackPost)) == 1
