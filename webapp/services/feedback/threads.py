"""Feedback threads, the member's side: opening one and writing back.

A thread is opened by a member (a question, a suggestion, a complaint) or by
the surveys for a detractor's answer (`survey_answer_id`: one thread per
answer, opening it again returns the same thread). A member-opened thread
fires the `feedback_given` earn trigger once (keyed by the thread; the rules'
own caps decide how much it earns). Flush, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import FEEDBACK_CATEGORIES, FeedbackPost, FeedbackThread, Member
from webapp.services.errors import MemberNotActive, NotFound, ProblemsInvalid
from webapp.services.offers import earn_rules

MAX_BODY = 2000
SUBJECT_LENGTH = 120
# what a member may choose on the form; `survey` is the surveys' own
MEMBER_CATEGORIES = tuple(c for c in FEEDBACK_CATEGORIES if c != "survey")
TRIGGER = "feedback_given"


class FeedbackInvalid(ProblemsInvalid):
    """The message is not valid."""

    code = "feedback_invalid"


class ThreadNotFound(NotFound):
    """No such conversation."""

    code = "feedback_not_found"


def clean_body(body: str | None, *, field: str = "body") -> str:
    """The text as it will be kept: trimmed, not empty, at most MAX_BODY characters."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise FeedbackInvalid({field: "required"})
    if len(text) > MAX_BODY:
        raise FeedbackInvalid({field: "too_long"})
    return text


def subject_of(body: str) -> str:
    """The first line, cut to fit the list (with an ellipsis when cut)."""
    line = body.strip().splitlines()[0].strip() if body.strip() else ""
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1].rstrip() + "…"


def excerpt(body: str, length: int = 140) -> str:
    """A short one-line preview for messages and lists."""
    flat = " ".join(body.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _active_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("Member not found.", member_id=member_id)
    if not member.is_active:
        raise MemberNotActive()
    return member


def _survey_thread(session: Session, survey_answer_id: int) -> FeedbackThread | None:
    return session.scalar(select(FeedbackThread).where(FeedbackThread.survey_answer_id == survey_answer_id))


def open_thread(session: Session, *, member_id: int, category: str, body: str, now: datetime,
                picture: str | None = None, survey_answer_id: int | None = None) -> FeedbackThread:
    """A new thread with the member's first post. With `survey_answer_id` it is
    the follow-up of that answer (source `survey`), made once: a second call
    returns the first thread unchanged."""
    if survey_answer_id is not None and (existing := _survey_thread(session, survey_answer_id)):
        return existing
    allowed = FEEDBACK_CATEGORIES if survey_answer_id is not None else MEMBER_CATEGORIES
    if category not in allowed:
        raise FeedbackInvalid({"category": "invalid_choice"})
    text = clean_body(body)
    _active_member(session, member_id)
    thread = FeedbackThread(
        member_id=member_id, category=category, subject=subject_of(text), status="new",
        source="survey" if survey_answer_id is not None else "member",
        survey_answer_id=survey_answer_id, created_at=now, updated_at=now, last_member_at=now)
    try:
        # a racing call for the same answer fails in this savepoint, not the caller's transaction
        with session.begin_nested():
            session.add(thread)
            session.flush()
    except IntegrityError:
        if survey_answer_id is None:
            raise
        return _survey_thread(session, survey_answer_id)
    session.add(FeedbackPost(thread_id=thread.id, author="member", body=text, picture=picture,
                             internal=False, created_at=now))
    session.flush()
    if thread.source == "member":
        # the key makes it once per thread; caps and budgets are the rules'
        earn_rules.award_for_event(session, member_id=member_id, trigger=TRIGGER,
                                   event_key=f"{TRIGGER}:{thread.id}", now=now)
    return thread


def member_thread(session: Session, thread_id: int, member_id: int, *, lock: bool = False) -> FeedbackThread:
    """The member's own thread; someone else's is not found (never "forbidden")."""
    return load_thread(session, thread_id, member_id=member_id, lock=lock)


def load_thread(session: Session, thread_id: int, *, member_id: int | None = None,
                lock: bool = False) -> FeedbackThread:
    """The thread (only if it is `member_id`'s, when given), or ThreadNotFound."""
    query = select(FeedbackThread).where(FeedbackThread.id == thread_id)
    if member_id is not None:
        query = query.where(FeedbackThread.member_id == member_id)
    if lock:
        query = query.with_for_update()
    thread = session.scalar(query)
    if thread is None:
        raise ThreadNotFound(thread_id=thread_id)
    return thread


def member_reply(session: Session, *, thread_id: int, member_id: int, body: str, now: datetime,
                 picture: str | None = None) -> FeedbackPost:
    """The member writes again in their thread: it is open again (a closed one
    reopens, so a member is never left without a way to answer)."""
    thread = member_thread(session, thread_id, member_id, lock=True)
    text = clean_body(body)
    _active_member(session, member_id)
    post = FeedbackPost(thread_id=thread.id, author="member", body=text, picture=picture,
                        internal=False, created_at=now)
    session.add(post)
    if thread.status != "new":
        thread.status = "open"
    thread.updated_at = thread.last_member_at = now
    session.flush()
    return post


def member_threads(session: Session, member_id: int, *, limit: int = 50) -> list[FeedbackThread]:
    """The member's threads, the latest activity first."""
    return list(session.scalars(
        select(FeedbackThread).where(FeedbackThread.member_id == member_id)
        .order_by(FeedbackThread.updated_at.desc(), FeedbackThread.id.desc()).limit(limit)))


def member_posts(session: Session, thread: FeedbackThread) -> list[FeedbackPost]:
    """What the member sees of a thread: every post but staff's internal notes."""
    return list(session.scalars(
        select(FeedbackPost).where(FeedbackPost.thread_id == thread.id, FeedbackPost.internal.is_(False))
        .order_by(FeedbackPost.id)))


def member_picture(session: Session, *, member_id: int, post_id: int) -> str:
    """The file name of a picture the member may see (in their own thread, not a
    staff note); anything else is not found."""
    name = session.scalar(
        select(FeedbackPost.picture).join(FeedbackThread, FeedbackThread.id == FeedbackPost.thread_id)
        .where(FeedbackPost.id == post_id, FeedbackThread.member_id == member_id,
               FeedbackPost.internal.is_(False)))
    if not name:
        raise ThreadNotFound(post_id=post_id)
    return name
