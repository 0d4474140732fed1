"""The outbox: every message to a member, one row per (member, channel, cause)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

CHANNELS = ("inbox", "email", "sms", "push")
# essential: sign-in codes and resets (no consent asked, never delayed or capped);
# transactional: answers to the member's own act (consent, never delayed or capped);
# notice: what the club did on its own (consent, quiet hours);
# marketing: broadcasts and offers (consent, quiet hours, the daily cap)
CATEGORIES = ("essential", "transactional", "notice", "marketing")
OUTBOX_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "suppressed")


class OutboxMessage(Base):
    """A message on one channel. Written in the transaction of its cause; the
    UNIQUE (member, channel, key) makes a replayed cause a no-op. Workers claim
    pending rows (`sending` with a lease), deliver and record the outcome."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("member_id", "channel", "key", name="uq_outbox_member_channel_key"),
        # the workers' claim: due rows of a status, oldest first
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_broadcast", "broadcast_id", "channel", "status"),
        Index("ix_outbox_member_created", "member_id", "created_at"),
        # delivery reports name the provider's id
        Index("ix_outbox_provider", "channel", "provider_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # where to send when not the member's own address (a sign-in code to the mobile typed)
    address: Mapped[str | None] = mapped_column(String(254))
    broadcast_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # why a message was suppressed (no_consent, no_address, daily_cap, inactive,
    # unsubscribed …) or the last error of a failed attempt
    reason: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(120))
    # what an SMS cost: its parts (GSM-7 160/153, UCS-2 70/67), set when sent
    segments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
