"""Staff's own wording of a message kind in one language (`/admin/messages/templates`);
a kind without a row speaks its shipped default (`services.messages.texts`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import UTCDateTime, utcnow


class MessageTemplate(Base):
    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("kind", "locale", name="uq_message_template_kind_locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(120))  # the audit actor's label
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
