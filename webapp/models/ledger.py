from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

CURRENCIES = ("points", "credit")


class LedgerEntry(Base):
    """One immutable balance change. Never updated, never deleted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("currency IN ('points', 'credit')", name="currency_known"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_ledger_entry_member_currency_id", "member_id", "currency", "id"),
        # a member's newest entries, both currencies (/me, /me/activity): a short
        # backward scan, not a sort of every entry the member ever had
        Index("ix_ledger_entry_member_id_id", "member_id", "id"),
        # points-earned tier metrics and daily caps scan by kind and time
        Index("ix_ledger_entry_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    currency: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)
    # earn, spend, refund, reversal, expire, adjust, grant, convert ...
    kind: Mapped[str] = mapped_column(String(24))
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointLot(Base):
    """Points earned together and expiring together; spends consume lots FIFO
    by expiry, so `sum(remaining) == points_balance` for every member."""

    __tablename__ = "point_lot"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        Index("ix_point_lot_member_open", "member_id", "expires_at", "id"),
        Index("ix_point_lot_due", "expires_at", "remaining"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
