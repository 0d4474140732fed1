from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.member import SignInAccount, new_session_token
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

# what each role may do; views check capabilities, never role names
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    "owner": frozenset(
        {"view", "members", "adjust", "settings", "api_keys", "audit", "offers", "staff", "tiers",
         "feedback", "surveys"}
    ),
    "marketer": frozenset({"view", "members", "offers", "tiers", "surveys"}),
    "operator": frozenset({"view", "members", "adjust", "feedback"}),
    "auditor": frozenset({"view", "members", "audit", "surveys"}),
}
ROLES = tuple(ROLE_CAPABILITIES)


class Staff(SignInAccount, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80), default="")
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    id_prefix = "s"
    is_staff = True

    @property
    def is_active(self) -> bool:
        return self.active

    def can(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES.get(self.role, frozenset())

    @property
    def name(self) -> str:
        return self.display_name or self.email


class ApiKey(Base):
    """A bearer key for the till / web shop. Only a SHA-256 of the secret is kept:
    the secret is 32 random bytes, so a fast hash is enough (no offline guessing)."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """Append-only record of every staff write (and of CLI administration)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
