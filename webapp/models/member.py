from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import UTCDateTime, utcnow

MEMBER_STATUSES = ("active", "suspended", "closed")


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class SignInAccount:
    """Flask-Login's protocol for the three kinds of account (members, staff,
    marketers): the id is a revocable session token behind the kind's letter,
    never the primary key. Each kind says when it is active."""

    id_prefix = ""
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_member = False

    def get_id(self) -> str:
        return f"{self.id_prefix}:{self.session_token}"


class Member(SignInAccount, Base):
    __tablename__ = "member"
    __table_args__ = (
        # the last line of defence behind the guarded updates in services.ledger
        CheckConstraint("points_balance >= 0", name="points_not_negative"),
        CheckConstraint("credit_balance >= 0", name="credit_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(20), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80), default="")
    locale: Mapped[str | None] = mapped_column(String(5))
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    birthday: Mapped[date | None]
    consent_email: Mapped[bool] = mapped_column(default=False)
    consent_sms: Mapped[bool] = mapped_column(default=False)
    consent_push: Mapped[bool] = mapped_column(default=False, server_default=false())
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # tier state: the level held, since when, the last evaluated metric, and
    # (in grace) when a downgrade falls due; a staff override wins until it ends
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"), index=True)
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_metric: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    downgrade_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_override_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    tier_override_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    id_prefix = "m"
    is_member = True

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def name(self) -> str:
        return self.display_name or self.email or self.mobile or f"#{self.id}"
