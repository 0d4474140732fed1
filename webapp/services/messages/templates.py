"""Which wording a message kind uses in a locale: the shipped default until staff
edit it in `/admin/messages/templates`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.services.messages.texts import Text, default_text


def template_for(session: Session, kind: str, locale: str) -> Text:
    return default_text(kind, locale)
