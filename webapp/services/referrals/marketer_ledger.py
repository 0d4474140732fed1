"""What the club owes each marketer: commissions in, payouts out, one entry per
change with a unique key, and a cached balance that never goes below zero."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import Marketer, MarketerEntry
from webapp.services.errors import IdempotencyConflict, InsufficientBalance, NotFound


class _Refused(Exception):
    """The guarded UPDATE moved no row."""


def entry_by_key(session: Session, key: str) -> MarketerEntry | None:
    return session.scalar(select(MarketerEntry).where(MarketerEntry.idempotency_key == key))


def post(session: Session, *, marketer_id: int, amount: int, kind: str, key: str, now: datetime,
         referral_id: int | None = None, reference: str | None = None,
         created_by: str = "system") -> tuple[MarketerEntry, bool]:
    """Post one entry; returns it and whether it was new. A debit larger than the
    balance raises InsufficientBalance (the guarded UPDATE decides, race-free)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValueError("amount must be a non-zero integer")
    existing = entry_by_key(session, key)
    if existing is not None:
        if (existing.marketer_id, existing.amount) != (marketer_id, amount):
            raise IdempotencyConflict(key=key)
        return existing, False
    entry = MarketerEntry(marketer_id=marketer_id, amount=amount, kind=kind, referral_id=referral_id,
                          reference=reference, idempotency_key=key, created_by=created_by, created_at=now)
    guard = Marketer.balance >= -amount if amount < 0 else Marketer.id == marketer_id
    try:
        # one savepoint: a refused debit leaves no entry behind, even if the caller commits
        with session.begin_nested():
            session.add(entry)
            session.flush()
            moved = session.execute(
                update(Marketer).where(Marketer.id == marketer_id, guard)
                .values(balance=Marketer.balance + amount).execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:
                raise _Refused()
    except IntegrityError:  # the same key posted concurrently: theirs stands
        existing = entry_by_key(session, key)
        if existing is None:
            raise
        return existing, False
    except _Refused:
        if session.get(Marketer, marketer_id) is None:
            raise NotFound("Marketer not found.", marketer_id=marketer_id) from None
        raise InsufficientBalance("The marketer's balance is lower than this payout.") from None
    return entry, True


def debit_up_to(session: Session, *, marketer_id: int, amount: int, key: str, now: datetime,
                **kwargs) -> int:
    """Take back as much of `amount` as the balance holds; returns the shortfall."""
    if amount <= 0:
        return 0
    existing = entry_by_key(session, key)
    if existing is not None:
        return amount + existing.amount
    marketer = session.scalar(select(Marketer).where(Marketer.id == marketer_id).with_for_update()
                              .execution_options(populate_existing=True))
    take = min(marketer.balance, amount)
    if take:
        post(session, marketer_id=marketer_id, amount=-take, key=key, now=now, **kwargs)
    return amount - take


def balance(session: Session, marketer_id: int) -> int:
    return session.scalar(select(Marketer.balance).where(Marketer.id == marketer_id)) or 0


def find_mismatches(session: Session) -> list[tuple[int, int, int]]:
    """(marketer id, cached balance, sum of entries) wherever the two differ. Set-based."""
    sums = (select(MarketerEntry.marketer_id, func.sum(MarketerEntry.amount).label("total"))
            .group_by(MarketerEntry.marketer_id).subquery())
    total = func.coalesce(sums.c.total, 0)
    rows = session.execute(select(Marketer.id, Marketer.balance, total)
                           .outerjoin(sums, sums.c.marketer_id == Marketer.id).where(Marketer.balance != total))
    return [(marketer_id, balance, int(entries)) for marketer_id, balance, entries in rows]
