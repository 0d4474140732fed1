"""Staff putting a member on a level until a date, or ending that override."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from webapp.services.errors import DomainError
from webapp.services.ledger import lock_member
from webapp.services.members import audit
from webapp.services.tiers import rules
from webapp.services.tiers.changes import record_change
from webapp.services.tiers.metrics import member_metrics
from webapp.services.tiers.program import load_program
from webapp.services.tiers.progress import levels_by_id

MAX_OVERRIDE_DAYS = 3650


class NoTierProgram(DomainError):
    """The club has no tier program yet."""

    code = "no_tier_program"
    status = 409


class OverridesNotAllowed(DomainError):
    """The tier program does not allow manual overrides."""

    code = "tier_overrides_off"
    status = 409


class UnknownTier(DomainError):
    """There is no such level in the tier program."""

    code = "unknown_tier"


class InvalidOverride(DomainError):
    """An override needs an end date in the future, at most ten years ahead."""

    code = "invalid_override"


class OverrideReasonRequired(DomainError):
    """Give a reason of 3 to 300 characters."""

    code = "reason_required"


def set_override(session: Session, *, member_id: int, tier_code: str | None, until: datetime | None,
                 reason: str, actor: audit.Actor, now: datetime) -> None:
    """Put the member on a level until a date (tier_code), or end the override now
    (tier_code None: the member gets the level their metric earns). Audited."""
    program = load_program(session)
    if program is None:
        raise NoTierProgram()
    if not program.allow_overrides:
        raise OverridesNotAllowed()
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 300:
        raise OverrideReasonRequired()
    member = lock_member(session, member_id)
    by_id = levels_by_id(program)
    held = by_id.get(member.tier_id)
    before = {"tier": held.code if held else None,
              "override": by_id[member.tier_override_id].code
              if member.tier_override_id in by_id else None,
              "until": member.tier_override_until.isoformat() if member.tier_override_until else None}
    token = secrets.token_hex(6)
    if tier_code is None:
        if member.tier_override_id is None:
            return
        _current, metric = member_metrics(session, program, member_id, now)
        target = rules.qualifying_level(program, metric)
        reason_code = "override_end"
    else:
        target = next((lv for lv in program.levels if lv.code == tier_code), None)
        if target is None:
            raise UnknownTier(tier_code=tier_code)
        if until is None or until.tzinfo is None or until <= now:
            raise InvalidOverride("An override needs an end date in the future.")
        if until > now + timedelta(days=MAX_OVERRIDE_DAYS):
            raise InvalidOverride("An override can last ten years at most.")
        metric = member.tier_metric
        reason_code = "override"
    if held is None or held.id != target.id:
        member.tier_since = now
    member.tier_id = target.id
    member.tier_override_id = target.id if tier_code is not None else None
    member.tier_override_until = until if tier_code is not None else None
    member.tier_metric = metric
    member.downgrade_due_at = None
    session.flush()
    record_change(session, member, held, target, reason=reason_code, actor=actor.label[:64],
                  metric=metric, key=f"tier:{member_id}:{reason_code}:{token}", now=now)
    audit.record(session, actor, "member.tier_override", "member", member_id, now=now,
                 reason=reason, before=before,
                 after={"tier": target.code,
                        "override": target.code if tier_code is not None else None,
                        "until": until.isoformat() if tier_code is not None else None})
    session.flush()
