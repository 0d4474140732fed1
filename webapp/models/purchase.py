from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
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

if TYPE_CHECKING:
    from webapp.models.member import Member


class Purchase(Base):
    """A purchase reported by the till or web shop ("transaction" in the API)."""

    __tablename__ = "purchase"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_in_range"),
        # tier metrics sum a member's purchases over a window
        Index("ix_purchase_member_occurred", "member_id", "occurred_at"),
        Index("ix_purchase_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    store: Mapped[str | None] = mapped_column(String(64))
    # a fee charged on the purchase (e.g. a brokerage commission), for fee rebates
    fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    points_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[PurchaseItem]] = relationship(
        back_populates="purchase", order_by="PurchaseItem.id", lazy="selectin"
    )
    # the buyer; `record_purchase` sets it to the row it locked, so the API answer
    # reads the balances it left there instead of querying them again
    member: Mapped[Member] = relationship()


class PurchaseItem(Base):
    __tablename__ = "purchase_item"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchase.id"), index=True)
    sku: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)

    purchase: Mapped[Purchase] = relationship(back_populates="items")


class PurchaseRefund(Base):
    """A (partial) refund. `points_shortfall` is what could not be taken back
    because the member had already spent it: recorded and reported, never
    silently dropped."""

    __tablename__ = "purchase_refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("purchase_id", "external_ref"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchase.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    points_shortfall: Mapped[int] = mapped_column(BigInteger, default=0)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
