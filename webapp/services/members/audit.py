"""The append-only audit log of staff writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import AuditLog, Staff


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff member, the CLI, the API or the system."""

    label: str  # "staff:3", "cli", "api:2", "system", "member:7"
    staff: Staff | None = None
    ip: str | None = None

    @classmethod
    def of_staff(cls, staff: Staff, ip: str | None = None) -> Actor:
        return cls(label=f"staff:{staff.id}", staff=staff, ip=ip)


CLI = Actor("cli")
SYSTEM = Actor("system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    *,
    now: datetime,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> AuditLog:
    entry = AuditLog(
        staff_id=actor.staff.id if actor.staff else None,
        actor=actor.label if not actor.staff else f"{actor.label} {actor.staff.email}",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=before,
        after=after,
        reason=reason,
        ip=actor.ip,
        created_at=now,
    )
    session.add(entry)
    return entry
