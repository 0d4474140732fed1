"""Web push subscriptions: one row per browser (its push service endpoint) that
a member turned notifications on in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow


class PushSubscription(Base):
    """What `PushManager.subscribe()` gave the browser: the endpoint to POST to
    and the keys to encrypt for (`p256dh`: its P-256 public key, `auth`: a
    16-byte secret, both base64url). An endpoint belongs to one browser, so it
    is UNIQUE: a second member subscribing in the same browser takes it over."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
