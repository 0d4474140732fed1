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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

# the program's vocabulary (services.tiers.rules checks programs against it)
METRICS = ("points_earned", "spend", "purchases")
WINDOW_KINDS = ("rolling", "calendar")
CALENDAR_PERIODS = ("month", "quarter", "year")
# the icons templates/_partials/tier_badge.html can draw, and the colour of a new level
ICONS = ("medal", "star", "crown", "gem", "shield", "trophy", "leaf", "heart")
DEFAULT_COLOR = "#8c6a4f"


class TierProgram(Base):
    """How members qualify for tiers. One row: the club's program (edited in place,
    every change audited; `version` moves on each save)."""

    __tablename__ = "tier_program"
    __table_args__ = (
        CheckConstraint("metric IN ('points_earned', 'spend', 'purchases')", name="metric_known"),
        CheckConstraint("window_kind IN ('rolling', 'calendar')", name="window_known"),
        CheckConstraint("window_days > 0", name="window_days_positive"),
        CheckConstraint("grace_days >= 0", name="grace_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), default="points_earned")
    window_kind: Mapped[str] = mapped_column(String(16), default="rolling")
    window_days: Mapped[int] = mapped_column(Integer, default=365)
    calendar_period: Mapped[str | None] = mapped_column(String(16))
    # calendar periods follow the Jalali (Solar Hijri) or the Gregorian calendar
    calendar_system: Mapped[str] = mapped_column(String(16), default="jalali")
    grace_days: Mapped[int] = mapped_column(Integer, default=30)
    allow_overrides: Mapped[bool] = mapped_column(default=True)
    # fee rebates (brokerage-style clubs): money units of fee rebate per point; 0 = off
    rebate_money_per_point: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tiers: Mapped[list[Tier]] = relationship(
        back_populates="program", order_by="Tier.rank", lazy="selectin"
    )


class Tier(Base):
    """One level. Rank 0 is the entry level (threshold 0). Multipliers and rebates
    are integers in basis points (10,000 = ×1, 100 = 1 %)."""

    __tablename__ = "tier"
    __table_args__ = (
        UniqueConstraint("program_id", "rank"),
        UniqueConstraint("program_id", "code"),
        CheckConstraint("threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("earn_multiplier_bp >= 0", name="multiplier_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("tier_program.id"))
    rank: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    name_fa: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    threshold: Mapped[int] = mapped_column(BigInteger, default=0)
    earn_multiplier_bp: Mapped[int] = mapped_column(Integer, default=10_000)
    color: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOR)
    icon: Mapped[str] = mapped_column(String(32), default=ICONS[0])
    # [{"fa": "...", "en": "..."}]: permanent benefits in words
    benefits: Mapped[list] = mapped_column(JSON, default=list)
    # machine-readable perks the rest of the app reads: free_shipping (bool),
    # extra_raffle_tickets (int), fee_rebate_bp (int), rewards_unlocked (bool)
    perks: Mapped[dict] = mapped_column(JSON, default=dict)

    program: Mapped[TierProgram] = relationship(back_populates="tiers")


class TierHistory(Base):
    __tablename__ = "tier_history"
    __table_args__ = (Index("ix_tier_history_member_id_id", "member_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    to_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    # upgrade, downgrade, at_risk, override, override_end, program_change
    reason: Mapped[str] = mapped_column(String(24))
    metric_value: Mapped[int] = mapped_column(BigInteger, default=0)
    actor: Mapped[str] = mapped_column(String(64), default="system")
    # one change per member per cause (e.g. "nightly:2026-11-25:m42") makes jobs idempotent
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxMessage(Base):
    """A message in the member's in-app inbox. Stored as a template kind plus
    parameters and rendered in the member's language when read."""

    __tablename__ = "inbox_message"
    __table_args__ = (Index("ix_inbox_message_member_id_id", "member_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CreditSpend(Base):
    """Store credit spent at the till (API), refundable up to what was spent."""

    __tablename__ = "credit_spend"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_in_range"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    reason: Mapped[str | None] = mapped_column(String(300))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditRefund(Base):
    __tablename__ = "credit_refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("spend_id", "external_ref"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    spend_id: Mapped[int] = mapped_column(ForeignKey("credit_spend.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
