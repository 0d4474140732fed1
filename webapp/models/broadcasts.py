"""Broadcasts: staff's own message to a segment on chosen channels, with a random
hold-out group that is not messaged, so the report can compare purchases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import UTCDateTime, utcnow

BROADCAST_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")


class Broadcast(Base):
    """What staff wrote (subject and body per language: templates themselves,
    worded per member), to whom (a segment, or every active member), on which
    channels, when, and how it went (the audience frozen when sending starts)."""

    __tablename__ = "broadcast"
    __table_args__ = (
        CheckConstraint("holdout_percent >= 0 AND holdout_percent <= 50", name="holdout_in_range"),
        Index("ix_broadcast_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))  # None: every active member
    channels: Mapped[list] = mapped_column(JSON, default=list)
    subject_fa: Mapped[str] = mapped_column(String(200), default="")
    subject_en: Mapped[str] = mapped_column(String(200), default="")
    body_fa: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0)
    attribution_days: Mapped[int] = mapped_column(Integer, default=7)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    targeted: Mapped[int] = mapped_column(Integer, default=0)  # members messaged
    held_out: Mapped[int] = mapped_column(Integer, default=0)  # members kept out to compare with


class BroadcastMember(Base):
    """The audience, frozen when sending starts: messaged, or held out."""

    __tablename__ = "broadcast_member"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    held_out: Mapped[bool] = mapped_column(Boolean, default=False)
