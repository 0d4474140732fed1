"""Referrals: link opens, the friends who joined through a link, marketers
(affiliates) and what the club owes them, and share-button clicks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.member import SignInAccount, new_session_token
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

# pending: joined, not yet qualified · held: a fraud check fired, staff decide ·
# qualified: rewards paid · rejected: staff refused it · reversed: the qualifying
# purchase was refunded · expired: the friend did not qualify in time
REFERRAL_STATUSES = ("pending", "held", "qualified", "rejected", "reversed", "expired")
MARKETER_STATUSES = ("active", "suspended")
SHARE_CHANNELS = ("native", "copy", "whatsapp", "telegram", "sms", "email", "qr")
MARKETER_ENTRY_KINDS = ("commission", "reversal", "payout", "adjustment")


class Marketer(SignInAccount, Base):
    """An affiliate with their own code. Either a member promoted to it
    (`member_id`, signs in as that member) or a person outside the member base
    (`email` + password, signs in at /partner/login)."""

    __tablename__ = "marketer"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("commission_amount >= 0", name="commission_not_negative"),
        CheckConstraint("commission_bp >= 0 AND commission_bp <= 10000", name="commission_bp_range"),
        CheckConstraint("member_id IS NOT NULL OR email IS NOT NULL", name="has_login"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    status: Mapped[str] = mapped_column(String(12), default="active")
    # per qualified referral: a fixed amount plus a share of the qualifying purchase
    # (basis points), both in the smallest money unit
    commission_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_bp: Mapped[int] = mapped_column(default=0)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)  # earned, not yet paid out
    note: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    id_prefix = "k"  # signs in at /partner/login when outside the member base

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class MarketerEntry(Base):
    """The marketer's ledger: commissions earned, reversed, paid out."""

    __tablename__ = "marketer_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    marketer_id: Mapped[int] = mapped_column(ForeignKey("marketer.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # signed, smallest money unit
    kind: Mapped[str] = mapped_column(String(16))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    reference: Mapped[str | None] = mapped_column(String(120))  # e.g. the bank transfer's number
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ReferralOpen(Base):
    """One visitor's first open of one link (`link`: "m<member id>" or
    "k<marketer id>:<campaign>"); repeat opens by the same device are not rows."""

    __tablename__ = "referral_open"
    __table_args__ = (UniqueConstraint("link", "visitor"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    link: Mapped[str] = mapped_column(String(64))
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    marketer_id: Mapped[int | None] = mapped_column(ForeignKey("marketer.id"), index=True)
    campaign: Mapped[str | None] = mapped_column(String(32))
    visitor: Mapped[str] = mapped_column(String(64))  # sha256 of the device cookie
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Referral(Base):
    """A friend who joined through a member's or a marketer's link."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint("referrer_id IS NOT NULL OR marketer_id IS NOT NULL", name="has_source"),
        Index("ix_referral_referrer_month", "referrer_id", "qualified_month"),
        Index("ix_referral_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    friend_id: Mapped[int] = mapped_column(ForeignKey("member.id"), unique=True)  # referred once
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    marketer_id: Mapped[int | None] = mapped_column(ForeignKey("marketer.id"), index=True)
    campaign: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    flags: Mapped[list] = mapped_column(JSON, default=list)  # fraud checks that fired
    visitor: Mapped[str | None] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # the rules as they were when the friend joined: later edits do not move the goalposts
    terms: Mapped[dict] = mapped_column(JSON, default=dict)
    qualify_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    qualifying_purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchase.id"), index=True)
    qualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    qualified_month: Mapped[str | None] = mapped_column(String(7))  # "2026-12", club time
    referrer_rewarded: Mapped[bool] = mapped_column(default=False)  # False when over the cap
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(300))
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberDevice(Base):
    """Device cookies a member has signed in or joined from (hashed): a friend
    joining from the referrer's own device is a self-referral."""

    __tablename__ = "member_device"
    __table_args__ = (UniqueConstraint("member_id", "visitor"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    visitor: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferralShare(Base):
    """A press of a share button on /invite (which channels members use)."""

    __tablename__ = "referral_share"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ReferralPrize(Base):
    """A monthly leaderboard prize paid (unique per month and member: the job
    may run twice)."""

    __tablename__ = "referral_prize"
    __table_args__ = (UniqueConstraint("month", "member_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    place: Mapped[int]
    qualified: Mapped[int]  # friends qualified that month
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferrerTally(Base):
    """A member's invite funnel as counters, kept in the same transaction as the
    open, sign-up, status change or payment they count (services/referrals/tally.py),
    so /invite reads one row however many opens and friends there are.
    `vafa doctor` checks them against the rows."""

    __tablename__ = "referrer_tally"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    opens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    signups: Mapped[int] = mapped_column(default=0, server_default="0")
    pending: Mapped[int] = mapped_column(default=0, server_default="0")
    held: Mapped[int] = mapped_column(default=0, server_default="0")
    qualified: Mapped[int] = mapped_column(default=0, server_default="0")
    reversed: Mapped[int] = mapped_column(default=0, server_default="0")
    points_earned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # net of reversals
    credit_earned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
