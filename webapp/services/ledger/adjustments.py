"""Manual balance changes by staff: point adjustments and store-credit grants.

Each one needs a reason, is posted once per one-time form token (the ledger's
idempotency key, so a double click posts once) and is audited with the
balance before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from webapp.models import LedgerEntry
from webapp.services import ledger, tiers
from webapp.services.errors import DomainError
from webapp.services.members import audit
from webapp.services.members.accounts import get_member
from webapp.services.settings import load_earn_settings

MIN_REASON = 3
MAX_REASON = 300  # ledger_entry.description is 300 characters
MAX_POINTS = 10_000_000
MAX_CREDIT = 10**12  # in the smallest money unit
MAX_KEY = 150


class ReasonRequired(DomainError):
    """Give a reason of at least 3 characters."""

    code = "reason_required"


class AmountOutOfRange(DomainError):
    """The amount is zero or too large."""

    code = "amount_out_of_range"


class InvalidFormToken(DomainError):
    """The form is missing its one-time token; reload the page."""

    code = "invalid_form_token"


@dataclass(frozen=True)
class Adjustment:
    entry: LedgerEntry
    before: int
    after: int
    replayed: bool  # the same form token had already been posted: nothing changed


def adjust_points(
    session: Session, *, member_id: int, amount: int, reason: str, actor: audit.Actor,
    now: datetime, key: str,
) -> Adjustment:
    """Add (amount > 0) or take away (amount < 0) points. Taking away never
    overdraws: the ledger raises `InsufficientPoints` and nothing is saved."""
    reason = _checked_reason(reason)
    _check_amount(amount, MAX_POINTS, allow_negative=True)
    get_member(session, member_id)
    expiry_days = load_earn_settings(session).points_expiry_days
    # added points expire like earned ones, under the club's current rule
    expires_at = now + timedelta(days=expiry_days) if amount > 0 and expiry_days else None
    posting = ledger.post(
        session, member_id=member_id, currency="points", amount=amount, kind="adjust",
        key=f"staff-adjust:{_checked_key(key)}", now=now, source=_source(actor),
        description=reason, created_by=actor.label, expires_at=expires_at,
    )
    if amount > 0 and not posting.replayed:
        # adjustments count as points earned for tiers (mostly corrections of earning);
        # taking points away never downgrades at once: the nightly evaluation does
        tiers.on_points_earned(session, member_id, kind="adjust", now=now)
    return _audited(session, posting, amount, "member.adjust_points", "points",
                    member_id=member_id, reason=reason, actor=actor, now=now)


def grant_credit(
    session: Session, *, member_id: int, amount: int, reason: str, actor: audit.Actor,
    now: datetime, key: str,
) -> Adjustment:
    """Give store credit (in the smallest money unit)."""
    reason = _checked_reason(reason)
    _check_amount(amount, MAX_CREDIT, allow_negative=False)
    get_member(session, member_id)
    posting = ledger.post(
        session, member_id=member_id, currency="credit", amount=amount, kind="grant",
        key=f"staff-grant:{_checked_key(key)}", now=now, source=_source(actor),
        description=reason, created_by=actor.label,
    )
    return _audited(session, posting, amount, "member.grant_credit", "credit",
                    member_id=member_id, reason=reason, actor=actor, now=now)


def _audited(session, posting, amount, action, currency, *, member_id, reason, actor, now):
    after = posting.balance
    before = after - amount
    if not posting.replayed:  # a replay changed nothing, so there is nothing to audit
        audit.record(
            session, actor, action, "member", member_id, now=now, reason=reason,
            before={currency: before},
            after={currency: after, "amount": amount, "entry_id": posting.entry.id},
        )
        session.flush()
    return Adjustment(entry=posting.entry, before=before, after=after, replayed=posting.replayed)


def _checked_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ReasonRequired()
    if len(reason) > MAX_REASON:
        raise ReasonRequired(f"Keep the reason under {MAX_REASON} characters.")
    return reason


def _check_amount(amount: int, limit: int, *, allow_negative: bool) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise AmountOutOfRange()
    if abs(amount) > limit or (amount < 0 and not allow_negative):
        raise AmountOutOfRange()


def _checked_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidFormToken()
    return key


def _source(actor: audit.Actor) -> tuple[str, object] | None:
    return ("staff", actor.staff.id) if actor.staff else None
