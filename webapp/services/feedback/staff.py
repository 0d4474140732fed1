"""Feedback threads, the staff's side: replying (which tells the member on
their channels), internal notes (which tell nobody and never reach the
member), assignment and status. Every write is in the audit log. Flush, never
commit; the actor and `now` are arguments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from webapp.models import FEEDBACK_STATUSES, FeedbackPost, FeedbackThread, Member, Staff
from webapp.services.errors import Conflict
from webapp.services.feedback.threads import (
    FeedbackInvalid,
    ThreadNotFound,
    clean_body,
    excerpt,
    load_thread,
)
from webapp.services.members import audit
from webapp.services.messages import notify

# what staff may set by hand; replies move a thread themselves (staff → answered,
# member → open), and nothing goes back to "new"
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "answered", "closed"}),
    "open": frozenset({"answered", "closed"}),
    "answered": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
WRITE_CAPABILITY = "feedback"
ASSIGNMENTS = ("mine", "unassigned")
PER_PAGE = 50


class StatusConflict(Conflict):
    """The conversation cannot move to that status from where it is."""

    code = "feedback_status"


def staff_thread(session: Session, thread_id: int, *, lock: bool = False) -> FeedbackThread:
    return load_thread(session, thread_id, lock=lock)


def _state(thread: FeedbackThread) -> dict:
    return {"status": thread.status, "assigned_staff_id": thread.assigned_staff_id}


def _staff_post(session: Session, thread: FeedbackThread, *, actor: audit.Actor, body: str,
                now: datetime, internal: bool, picture: str | None) -> FeedbackPost:
    post = FeedbackPost(thread_id=thread.id, author="staff",
                        staff_id=actor.staff.id if actor.staff else None, body=clean_body(body),
                        picture=picture, internal=internal, created_at=now)
    session.add(post)
    thread.updated_at = now
    session.flush()
    return post


def staff_reply(session: Session, *, thread_id: int, body: str, actor: audit.Actor, now: datetime,
                picture: str | None = None) -> FeedbackPost:
    """Answer the member: the thread is answered, and the member is told once
    (inbox and their channels: the `feedback_reply` kind, keyed by the post)."""
    thread = staff_thread(session, thread_id, lock=True)
    before = _state(thread)
    post = _staff_post(session, thread, actor=actor, body=body, now=now, internal=False, picture=picture)
    thread.status, thread.last_staff_at = "answered", now
    session.flush()
    notify(session, member_id=thread.member_id, kind="feedback_reply",
           params={"thread_id": thread.id, "excerpt": excerpt(post.body), "path": f"/feedback/{thread.id}"},
           key=f"feedback:{post.id}", now=now)
    audit.record(session, actor, "feedback.reply", "feedback_thread", thread.id, now=now,
                 before=before, after={**_state(thread), "post_id": post.id})
    return post


def add_note(session: Session, *, thread_id: int, body: str, actor: audit.Actor, now: datetime,
             picture: str | None = None) -> FeedbackPost:
    """A note for staff only. A new thread someone writes about is being worked on: open."""
    thread = staff_thread(session, thread_id, lock=True)
    before = _state(thread)
    post = _staff_post(session, thread, actor=actor, body=body, now=now, internal=True, picture=picture)
    if thread.status == "new":
        thread.status = "open"
    session.flush()
    audit.record(session, actor, "feedback.note", "feedback_thread", thread.id, now=now,
                 before=before, after={**_state(thread), "post_id": post.id})
    return post


def assignable_staff(session: Session) -> list[Staff]:
    """Active staff who can answer threads, by name."""
    rows = session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.display_name, Staff.email))
    return [s for s in rows if s.can(WRITE_CAPABILITY)]


def assign(session: Session, *, thread_id: int, staff_id: int | None, actor: audit.Actor,
           now: datetime) -> FeedbackThread:
    """Give the thread to a staff member (None: to nobody). A new thread given to
    someone is open."""
    thread = staff_thread(session, thread_id, lock=True)
    if staff_id is not None and staff_id not in {s.id for s in assignable_staff(session)}:
        raise FeedbackInvalid({"staff_id": "invalid_choice"})
    before = _state(thread)
    thread.assigned_staff_id = staff_id
    if staff_id is not None and thread.status == "new":
        thread.status = "open"
    thread.updated_at = now
    session.flush()
    audit.record(session, actor, "feedback.assign", "feedback_thread", thread.id, now=now,
                 before=before, after=_state(thread))
    return thread


def set_status(session: Session, *, thread_id: int, status: str, actor: audit.Actor,
               now: datetime) -> FeedbackThread:
    """Move the thread by hand along TRANSITIONS (setting the status it has is a no-op)."""
    if status not in FEEDBACK_STATUSES:
        raise FeedbackInvalid({"status": "invalid_choice"})
    thread = staff_thread(session, thread_id, lock=True)
    if status == thread.status:
        return thread
    if status not in TRANSITIONS[thread.status]:
        raise StatusConflict(status=thread.status, to=status)
    before = _state(thread)
    thread.status, thread.updated_at = status, now
    session.flush()
    audit.record(session, actor, "feedback.status", "feedback_thread", thread.id, now=now,
                 before=before, after=_state(thread))
    return thread


# -- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadRow:
    thread: FeedbackThread
    member_name: str
    assigned_name: str | None


def _filtered(query, *, status: str | None, assigned: str | None, staff_id: int | None):
    if status in FEEDBACK_STATUSES:
        query = query.where(FeedbackThread.status == status)
    if assigned == "mine":
        query = query.where(FeedbackThread.assigned_staff_id == staff_id)
    elif assigned == "unassigned":
        query = query.where(FeedbackThread.assigned_staff_id.is_(None))
    return query


def staff_threads(session: Session, *, status: str | None = None, assigned: str | None = None,
                  staff_id: int | None = None, page: int = 1,
                  per_page: int = PER_PAGE) -> tuple[list[ThreadRow], bool]:
    """One page of threads (the latest activity first) with the member's and
    the assignee's names; and whether there is a next page."""
    owner = aliased(Staff)
    query = (
        select(FeedbackThread, Member.display_name, Member.email, Member.mobile,
               owner.display_name, owner.email)
        .join(Member, Member.id == FeedbackThread.member_id)
        .outerjoin(owner, owner.id == FeedbackThread.assigned_staff_id))
    query = _filtered(query, status=status, assigned=assigned, staff_id=staff_id)
    query = query.order_by(FeedbackThread.updated_at.desc(), FeedbackThread.id.desc()) \
        .limit(per_page + 1).offset((max(page, 1) - 1) * per_page)
    rows = [ThreadRow(t, name or email or mobile or f"#{t.member_id}",
                      (s_name or s_email) if t.assigned_staff_id else None)
            for t, name, email, mobile, s_name, s_email in session.execute(query)]
    return rows[:per_page], len(rows) > per_page


def status_counts(session: Session, *, assigned: str | None = None,
                  staff_id: int | None = None) -> dict[str, int]:
    """How many threads in each status (under the same assignment filter)."""
    query = select(FeedbackThread.status, func.count()).group_by(FeedbackThread.status)
    query = _filtered(query, status=None, assigned=assigned, staff_id=staff_id)
    counts = dict.fromkeys(FEEDBACK_STATUSES, 0)
    counts.update({status: int(n) for status, n in session.execute(query)})
    return counts


def staff_posts(session: Session, thread: FeedbackThread) -> list[FeedbackPost]:
    """Every post of the thread, notes included, oldest first."""
    return list(session.scalars(select(FeedbackPost).where(FeedbackPost.thread_id == thread.id)
                                .order_by(FeedbackPost.id)))


def staff_picture(session: Session, *, post_id: int) -> str:
    name = session.scalar(select(FeedbackPost.picture).where(FeedbackPost.id == post_id))
    if not name:
        raise ThreadNotFound(post_id=post_id)
    return name
