"""Ways back into an account: a sign-in code, a password reset code (SMS) or a
reset link (e-mail). Only their HMAC is kept; one live secret per member and
purpose (a new request replaces the old one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import UTCDateTime

RECOVERY_PURPOSES = ("sign_in", "reset_code", "reset_link")


class RecoveryCode(Base):
    __tablename__ = "recovery_code"
    __table_args__ = (
        UniqueConstraint("member_id", "purpose", name="uq_recovery_code_member_purpose"),
        Index("ix_recovery_code_secret", "secret_hash"),  # a reset link is found by its hash
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256 with the app's secret
    tries: Mapped[int] = mapped_column(Integer, default=0)  # wrong guesses; dead at the limit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # secrets sent in the current hour: a cap per account beside the per-address limit
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_in_window: Mapped[int] = mapped_column(Integer, default=0)
