"""What providers tell us after sending: a delivery report names the provider's
message id and whether the message reached the phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import OutboxMessage

REPORTED = ("delivered", "failed")


def record_delivery_report(session: Session, *, channel: str, provider_id: str, status: str,
                           now: datetime) -> OutboxMessage | None:
    """Mark the message `provider_id` names delivered (with the time) or failed
    (reason `undelivered`); None when no sent message has that id. A late
    "failed" never undoes a delivery already reported."""
    if status not in REPORTED:
        raise ValueError(f"status must be one of {REPORTED}")
    row = session.scalar(
        select(OutboxMessage).where(OutboxMessage.channel == channel, OutboxMessage.provider_id == provider_id,
                                    OutboxMessage.status.in_(("sent", "delivered", "failed")))
        .order_by(OutboxMessage.id.desc()).limit(1))
    if row is None:
        return None
    if status == "delivered":
        row.status, row.reason, row.delivered_at = "delivered", None, row.delivered_at or now
    elif row.status != "delivered":
        row.status, row.reason = "failed", "undelivered"
    return row
