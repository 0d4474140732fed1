"""Members talk back: a feedback thread (a question, suggestion or complaint, or
the follow-up of a survey answer) and its posts, the member's and staff's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

# what a member can choose; `survey` is for the follow-up of a survey answer
FEEDBACK_CATEGORIES = ("question", "suggestion", "complaint", "survey")
# new: nobody on staff has touched it; open: someone works on it (or the member
# wrote again); answered: staff replied last; closed: done (a member's reply reopens it)
FEEDBACK_STATUSES = ("new", "open", "answered", "closed")
FEEDBACK_SOURCES = ("member", "survey")
POST_AUTHORS = ("member", "staff")


class FeedbackThread(Base):
    __tablename__ = "feedback_thread"
    __table_args__ = (
        # one follow-up per survey answer (NULLs, the member's own threads, repeat freely)
        UniqueConstraint("survey_answer_id", name="uq_feedback_thread_survey_answer"),
        Index("ix_feedback_thread_member", "member_id", "updated_at"),
        Index("ix_feedback_thread_status", "status", "updated_at"),
        Index("ix_feedback_thread_assigned", "assigned_staff_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    category: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(120))  # the first line of the first post
    status: Mapped[str] = mapped_column(String(12), default="new")
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    source: Mapped[str] = mapped_column(String(10), default="member")
    # the survey answer this thread follows up (surveys own that table)
    survey_answer_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_member_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_staff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedbackPost(Base):
    """One message of a thread. `internal` posts are staff notes: never shown to
    the member, never sent anywhere."""

    __tablename__ = "feedback_post"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("feedback_thread.id"), index=True)
    author: Mapped[str] = mapped_column(String(8))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    body: Mapped[str] = mapped_column(Text)
    picture: Mapped[str | None] = mapped_column(String(200))  # file name under uploads/feedback
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
