"""Store credit spent at the till, and refunds of those spends.

A spend is a `credit_spend` row plus one guarded ledger debit (the balance can
never go below zero, however many tills spend at once); a refund credits back
at most what is left unrefunded of its spend, with the spend row locked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import CreditRefund, CreditSpend
from webapp.services import ledger
from webapp.services.errors import Conflict, DomainError, MemberNotActive, NotFound
from webapp.services.members.accounts import get_member

MAX_REASON = 300


class DuplicateCreditSpend(Conflict):
    """A credit spend with this external reference was already recorded."""

    code = "duplicate_credit_spend"


class DuplicateCreditRefund(Conflict):
    """A refund with this external reference was already recorded for this spend."""

    code = "duplicate_credit_refund"


class CreditRefundTooLarge(DomainError):
    """The refund is larger than what is left of the spend."""

    code = "refund_exceeds_spend"


def _positive(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer")


def spend_credit(
    session: Session,
    *,
    member_id: int,
    amount: int,
    external_ref: str | None,
    reason: str | None,
    api_key_id: int | None,
    now: datetime,
    created_by: str = "system",
) -> CreditSpend:
    """Take `amount` of store credit. Raises `InsufficientCredit` (nothing is
    saved) or `DuplicateCreditSpend` when `external_ref` was used before."""
    _positive(amount)
    member = get_member(session, member_id)
    if not member.is_active:
        raise MemberNotActive()
    if external_ref and _spend_by_ref(session, external_ref) is not None:
        raise DuplicateCreditSpend(external_ref=external_ref)
    spend = CreditSpend(member_id=member_id, amount=amount, external_ref=external_ref,
                        reason=(reason or None) and reason[:MAX_REASON], api_key_id=api_key_id,
                        created_at=now)
    try:
        with session.begin_nested():
            session.add(spend)
            session.flush()
    except IntegrityError as exc:  # the same external_ref spent concurrently
        raise DuplicateCreditSpend(external_ref=external_ref) from exc
    ledger.spend_credit(session, member_id, amount, key=f"credit-spend:{spend.id}", now=now,
                        source=("credit_spend", spend.id), created_by=created_by)
    return spend


def refund_credit_spend(
    session: Session,
    *,
    spend_id: int,
    now: datetime,
    amount: int | None = None,
    external_ref: str | None = None,
    created_by: str = "system",
) -> CreditRefund:
    """Give back all (`amount=None`) or part of what is left of a spend."""
    spend = session.scalar(
        select(CreditSpend).where(CreditSpend.id == spend_id).with_for_update()
        .execution_options(populate_existing=True)  # read it fresh once the lock is held
    )
    if spend is None:
        raise NotFound("Credit spend not found.", spend_id=spend_id)
    left = spend.amount - spend.refunded_amount
    amount = left if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 or amount > left:
        raise CreditRefundTooLarge(refundable=left)
    if external_ref and session.scalar(
        select(CreditRefund.id).where(CreditRefund.spend_id == spend_id,
                                      CreditRefund.external_ref == external_ref)
    ):
        raise DuplicateCreditRefund(external_ref=external_ref)
    refund = CreditRefund(spend_id=spend_id, amount=amount, external_ref=external_ref, created_at=now)
    session.add(refund)
    session.flush()
    ledger.post(session, member_id=spend.member_id, currency="credit", amount=amount, kind="refund",
                key=f"credit-refund:{refund.id}", now=now, source=("credit_refund", refund.id),
                created_by=created_by)
    spend.refunded_amount += amount
    session.flush()
    return refund


def get_spend(session: Session, spend_id: int) -> CreditSpend:
    spend = session.get(CreditSpend, spend_id)
    if spend is None:
        raise NotFound("Credit spend not found.", spend_id=spend_id)
    return spend


def refunds_of(session: Session, spend_id: int) -> list[CreditRefund]:
    return list(session.scalars(
        select(CreditRefund).where(CreditRefund.spend_id == spend_id).order_by(CreditRefund.id)
    ))


def _spend_by_ref(session: Session, external_ref: str) -> CreditSpend | None:
    return session.scalar(select(CreditSpend).where(CreditSpend.external_ref == external_ref))
