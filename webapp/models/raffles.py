"""Raffles (provably fair, commit-reveal; the draw itself is `games.raffle`).

A raffle goes draft → open (published: the seed is drawn and its sha256 shown)
→ closed (the entry list frozen as the canonical file) → drawn (winners stored,
seed revealed; `awarded_at` once the prizes are given), or → cancelled (bought
tickets refunded)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

RAFFLE_STATUSES = ("draft", "open", "closed", "drawn", "cancelled")
PRIZE_KINDS = ("points", "credit", "reward", "physical")
TICKET_SOURCES = ("buy", "coupon", "perk")


class Raffle(Base):
    __tablename__ = "raffle"
    __table_args__ = (
        CheckConstraint("ticket_price >= 0", name="price_not_negative"),
        CheckConstraint("max_tickets_per_member > 0", name="cap_positive"),
        CheckConstraint("alternates >= 0", name="alternates_not_negative"),
        CheckConstraint("draw_at >= closes_at", name="draw_after_close"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_fa: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    ticket_price: Mapped[int] = mapped_column(BigInteger, default=0)  # points; 0: free tickets only
    max_tickets_per_member: Mapped[int] = mapped_column(Integer)
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    draw_at: Mapped[datetime] = mapped_column(UTCDateTime)
    alternates: Mapped[int] = mapped_column(Integer, default=0)
    public_value_source: Mapped[str | None] = mapped_column(String(300))  # named before publishing
    public_value: Mapped[str | None] = mapped_column(String(300))  # entered after the close
    status: Mapped[str] = mapped_column(String(12), default="draft")
    seed: Mapped[bytes | None] = mapped_column(LargeBinary)  # secret until drawn
    commitment: Mapped[str | None] = mapped_column(String(64))
    entries_file: Mapped[bytes | None] = mapped_column(LargeBinary)
    entries_digest: Mapped[str | None] = mapped_column(String(64))
    # kept with every ticket added (entries with tickets, and their tickets), so no
    # page counts the entries; the close freezes them with the file
    entries_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tickets_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    draw_key: Mapped[str | None] = mapped_column(String(64))
    draw_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # staff's "draw now"
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RafflePrize(Base):
    """One line of prizes: `quantity` winners get it. Lines are handed out in
    `position` order: the first winners get the first line."""

    __tablename__ = "raffle_prize"
    __table_args__ = (
        UniqueConstraint("raffle_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    raffle_id: Mapped[int] = mapped_column(ForeignKey("raffle.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # points, or credit in the smallest unit
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("reward.id"))


class RaffleEntry(Base):
    """A member's entry: one per member and raffle, named in public only by its
    random `code` (the entry id of the canonical file)."""

    __tablename__ = "raffle_entry"
    __table_args__ = (
        UniqueConstraint("raffle_id", "member_id"),
        UniqueConstraint("raffle_id", "code"),
        Index("ix_raffle_entry_member", "member_id"),
        CheckConstraint("tickets = bought + from_coupons + from_perks", name="tickets_add_up"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    raffle_id: Mapped[int] = mapped_column(ForeignKey("raffle.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    code: Mapped[str] = mapped_column(String(16))
    tickets: Mapped[int] = mapped_column(BigInteger, default=0)
    bought: Mapped[int] = mapped_column(BigInteger, default=0)
    from_coupons: Mapped[int] = mapped_column(BigInteger, default=0)
    from_perks: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RaffleTickets(Base):
    """Each addition of tickets to an entry, once per `key` (the buy form's
    one-time token, the coupon, or the perk)."""

    __tablename__ = "raffle_tickets"
    __table_args__ = (Index("ix_raffle_tickets_raffle", "raffle_id", "points_spent"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    raffle_id: Mapped[int] = mapped_column(ForeignKey("raffle.id"))
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("raffle_entry.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    source: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)
    points_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("coupon.id"))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RaffleWinner(Base):
    """A drawn entry at `rank` (1.. winners, then the alternates). `slot` is the
    prize place it holds (1..number of prizes), None for an alternate not moved
    up; `forfeited` when the member's account was no longer active at award
    time (the slot passed to the next alternate)."""

    __tablename__ = "raffle_winner"
    __table_args__ = (UniqueConstraint("raffle_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    raffle_id: Mapped[int] = mapped_column(ForeignKey("raffle.id"))
    rank: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("raffle_entry.id"))
    entry_code: Mapped[str] = mapped_column(String(16))
    slot: Mapped[int | None] = mapped_column(Integer)
    forfeited: Mapped[bool] = mapped_column(Boolean, default=False)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("coupon.id"))
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
