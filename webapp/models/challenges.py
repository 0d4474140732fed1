from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import UTCDateTime, utcnow

CHALLENGE_METRICS = ("purchase_count", "spend", "categories")
CHALLENGE_STATUSES = ("draft", "active", "ended")


class Challenge(Base):
    """A goal over a period that members opt into: a perk up front (a temporary
    earn multiplier) and/or a reward on completion. Falling short just ends the perk."""

    __tablename__ = "challenge"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("ends_at > starts_at", name="period_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_fa: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(String(16))
    goal: Mapped[int] = mapped_column(BigInteger)
    categories: Mapped[list | None] = mapped_column(JSON)  # counted categories (metric "categories")
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    perk_multiplier_bp: Mapped[int | None] = mapped_column(Integer)  # e.g. 15000 = ×1.5 while enrolled
    reward_points: Mapped[int | None] = mapped_column(BigInteger)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("reward.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChallengeEntry(Base):
    """A member who opted in; `completed_at` is set once, with the reward.
    `progress` is recomputed from purchases on every purchase and refund;
    `coupon_id` is the catalog reward granted on completion (None: none, or the
    grant was refused, e.g. out of stock: staff see it on the challenge page)."""

    __tablename__ = "challenge_entry"
    __table_args__ = (
        UniqueConstraint("challenge_id", "member_id"),
        Index("ix_challenge_entry_member", "member_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    progress: Mapped[int] = mapped_column(BigInteger, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("coupon.id"))
