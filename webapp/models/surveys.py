"""Surveys: NPS and CSAT questions, the invitations members get, their answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

SURVEY_KINDS = ("nps", "csat")
# manual: staff send it to a segment; the others invite a member after their act
SURVEY_TRIGGERS = ("manual", "after_redemption", "after_purchase")
SURVEY_STATUSES = ("draft", "active", "closed")


class Survey(Base):
    """One question: NPS (0–10, "would you recommend us") or CSAT (1–5)."""

    __tablename__ = "survey"
    __table_args__ = (Index("ix_survey_status_trigger", "status", "trigger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120))
    question_fa: Mapped[str] = mapped_column(Text)
    question_en: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    # who may be invited (None: every active member); triggered invitations check it too
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyInvite(Base):
    """A member asked to answer a survey. The token in their link is the only
    authority to answer (no sign-in); `cause` names why they were asked
    (`manual:<member>`, `purchase:<id>`, `redemption:<coupon id>`), once per survey."""

    __tablename__ = "survey_invite"
    __table_args__ = (
        UniqueConstraint("survey_id", "cause", name="uq_survey_invite_cause"),
        # the once-per-N-days rule and "not invited yet" read these
        Index("ix_survey_invite_member", "survey_id", "member_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    cause: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SurveyAnswer(Base):
    """The one answer to an invitation, with the member's tier when they answered."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_in_range"),
        Index("ix_survey_answer_survey_created", "survey_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("survey_invite.id"), unique=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
