from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import UTCDateTime, utcnow

CAMPAIGN_KINDS = ("bonus", "offer", "earn_rule")
CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "done", "cancelled", "failed")


class Segment(Base):
    """A named set of members, defined by conditions (see services.segments);
    membership is always computed, never stored, except in a campaign's snapshot."""

    __tablename__ = "segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(300))
    # [{"field": "tier", "op": "in", "value": [1, 2]}, ...]; all must hold
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Campaign(Base):
    """Bonus points to a segment, or a targeted offer (a reward at a campaign
    price, or a temporary earn rule) for it; an optional random hold-out control
    group is snapshotted with the audience and measured against it."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("control_percent >= 0 AND control_percent <= 50", name="control_in_range"),
        CheckConstraint("budget_points IS NULL OR points_awarded <= budget_points", name="within_budget"),
        Index("ix_campaign_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))  # None: every active member
    message_fa: Mapped[str | None] = mapped_column(Text)
    message_en: Mapped[str | None] = mapped_column(Text)
    bonus_points: Mapped[int | None] = mapped_column(BigInteger)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("reward.id"))
    offer_cost_points: Mapped[int | None] = mapped_column(BigInteger)
    earn_rule_id: Mapped[int | None] = mapped_column(ForeignKey("earn_rule.id"))
    control_percent: Mapped[int] = mapped_column(Integer, default=0)
    budget_points: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)  # end of the offer and of the measured window
    status: Mapped[str] = mapped_column(String(16), default="draft")
    seed: Mapped[str] = mapped_column(String(64))  # for the control-group draw, reproducible
    members_total: Mapped[int] = mapped_column(Integer, default=0)
    members_done: Mapped[int] = mapped_column(Integer, default=0)
    points_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignMember(Base):
    """The campaign's audience, frozen when it starts: who is in the control group,
    and what the member was awarded."""

    __tablename__ = "campaign_member"
    __table_args__ = (Index("ix_campaign_member_member", "member_id"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    in_control: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
