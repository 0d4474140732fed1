from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

REWARD_KINDS = (
    "coupon_percent", "coupon_amount", "free_product", "credit", "raffle_tickets", "partner_voucher",
)
REWARD_STATUSES = ("draft", "active", "archived")
COUPON_STATUSES = ("issued", "used", "cancelled", "expired")


class Reward(Base):
    """A catalog item members buy with points. `stock` (None: unlimited) only
    ever moves through a guarded UPDATE, so it can never go below zero."""

    __tablename__ = "reward"
    __table_args__ = (
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("cost_points >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_fa: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    cost_points: Mapped[int] = mapped_column(BigInteger)
    # percent in basis points (coupon_percent), money (coupon_amount, credit), tickets (raffle_tickets)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    product_sku: Mapped[str | None] = mapped_column(String(64))  # free_product
    stock: Mapped[int | None] = mapped_column(BigInteger)
    issued_count: Mapped[int] = mapped_column(BigInteger, default=0)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coupon_valid_days: Mapped[int | None] = mapped_column(Integer)  # None: valid until used
    image: Mapped[str | None] = mapped_column(String(200))  # file name under the instance uploads
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoucherCode(Base):
    """A partner's code uploaded by staff, handed to exactly one coupon."""

    __tablename__ = "voucher_code"
    __table_args__ = (
        UniqueConstraint("reward_id", "code"),
        Index("ix_voucher_code_free", "reward_id", "coupon_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("reward.id"))
    code: Mapped[str] = mapped_column(String(64))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupon.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Coupon(Base):
    """What a member got for a redeemed reward: an unguessable code the till
    verifies and marks used. Kind and value are copied at redemption time."""

    __tablename__ = "coupon"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'used', 'cancelled', 'expired')", name="status_known"),
        Index("ix_coupon_member_issued", "member_id", "issued_at"),
        Index("ix_coupon_reward_member", "reward_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("reward.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    points_spent: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int | None] = mapped_column(Integer)  # bought at a campaign's price
    partner_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="issued")
    # the member's redeem request (one-time form token): a double submit issues one coupon
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_ref: Mapped[str | None] = mapped_column(String(100))  # the till's reference
    used_api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
