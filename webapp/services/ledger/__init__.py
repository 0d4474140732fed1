"""The ledger domain: everything that moves a member's points or store credit.

Here: entries, expiring lots and the guarded balance updates every other module
goes through. Beside it: `credit` (grants and spends of store credit at the
till), `wallet` (converting points into credit), `adjustments` (staff
corrections with a reason), `purchases` (posting a sale and refunds: earning,
tiers, challenges, referrals) and `activity` (a member's history, readable).

Every balance change is one immutable `LedgerEntry` with a unique idempotency key.
The cached balance on `member` moves in the same transaction through a guarded
UPDATE (`... WHERE balance >= :x`), which is race-free under Read Committed and
also takes the member's row lock; lots are only touched after that lock is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, String, case, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from webapp.db import in_ids, insert_ignoring_duplicates
from webapp.models import LedgerEntry, Member, PointLot
from webapp.models.types import UTCDateTime
from webapp.services.errors import (
    IdempotencyConflict,
    InsufficientCredit,
    InsufficientPoints,
    NotFound,
)
from webapp.services.members import facts

BALANCE_COLUMN = {"points": Member.points_balance, "credit": Member.credit_balance}
INSUFFICIENT = {"points": InsufficientPoints, "credit": InsufficientCredit}


@dataclass(frozen=True)
class Posting:
    entry: LedgerEntry
    balance: int  # the member's balance in this currency after the entry
    replayed: bool  # True when the key had already been posted


def post(
    session: Session,
    *,
    member_id: int,
    currency: str,
    amount: int,
    kind: str,
    key: str,
    now: datetime,
    source: tuple[str, object] | None = None,
    description: str | None = None,
    created_by: str = "system",
    expires_at: datetime | None = None,
    from_lot_id: int | None = None,
) -> Posting:
    """Post one entry. Replaying a key returns the first posting unchanged.

    Points credited open a lot (expiring at `expires_at`); points debited consume
    lots FIFO by expiry, or only lot `from_lot_id` (used by expiry)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValueError("amount must be a non-zero integer")
    if currency not in BALANCE_COLUMN:
        raise ValueError(f"unknown currency {currency!r}")

    # the guarded balance UPDATE first: a refused debit (or an unknown member)
    # writes nothing, with no savepoint to roll back to. Then insert-or-return on
    # the key: a concurrent twin waits on the member's row, then inserts nothing
    # and gives its balance move back (replays are rare, first postings are not).
    try:
        balance = _move_balance(session, member_id, currency, amount)
    except (InsufficientPoints, InsufficientCredit):
        existing = entry_by_key(session, key)  # a replayed debit the balance no longer covers
        if existing is None:
            raise
        return _replay(session, existing, member_id, currency, amount)
    entry = session.scalars(
        insert_ignoring_duplicates(session, LedgerEntry)
        .values(member_id=member_id, currency=currency, amount=amount, kind=kind,
                source_type=source[0] if source else None,
                source_id=str(source[1]) if source else None, idempotency_key=key,
                description=description, created_by=created_by, created_at=now)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LedgerEntry)
    ).one_or_none()
    if entry is None:
        _move_balance(session, member_id, currency, -amount)
        return _replay(session, entry_by_key(session, key), member_id, currency, amount)
    if currency == "points":
        _move_lots(session, entry, expires_at=expires_at, from_lot_id=from_lot_id)
        session.flush()
    return Posting(entry=entry, balance=balance, replayed=False)


def _move_lots(session: Session, entry: LedgerEntry, *, expires_at: datetime | None,
               from_lot_id: int | None) -> None:
    """Points credited open a lot; points debited consume lots."""
    if entry.amount > 0:
        session.add(PointLot(member_id=entry.member_id, entry_id=entry.id, amount=entry.amount,
                             remaining=entry.amount, earned_at=entry.created_at, expires_at=expires_at))
    else:
        _consume_lots(session, entry.member_id, -entry.amount, from_lot_id)


def entry_by_key(session: Session, key: str) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


def _replay(session, existing: LedgerEntry, member_id, currency, amount) -> Posting:
    if (existing.member_id, existing.currency, existing.amount) != (member_id, currency, amount):
        raise IdempotencyConflict(key=existing.idempotency_key)
    return Posting(entry=existing, balance=balance_of(session, member_id, currency), replayed=True)


def _move_balance(session: Session, member_id: int, currency: str, amount: int) -> int:
    column = BALANCE_COLUMN[currency]
    stmt = update(Member).where(Member.id == member_id)
    if amount < 0:
        stmt = stmt.where(column >= -amount)  # the guard: never below zero
    new_balance = session.execute(
        stmt.values({column: column + amount}).returning(column)
    ).scalar_one_or_none()
    if new_balance is None:
        if session.get(Member, member_id) is None:
            raise NotFound("Member not found.", member_id=member_id)
        raise INSUFFICIENT[currency](needed=-amount)
    return new_balance


def _consume_lots(session: Session, member_id: int, points: int, only_lot: int | None) -> None:
    """Take `points` out of the member's open lots, soonest expiry first
    (lots that never expire last). The member row is already locked."""
    query = select(PointLot).where(PointLot.member_id == member_id, PointLot.remaining > 0)
    if only_lot is not None:
        query = query.where(PointLot.id == only_lot)
    query = query.order_by(
        case((PointLot.expires_at.is_(None), 1), else_=0), PointLot.expires_at, PointLot.id
    )
    left = points
    for lot in session.scalars(query.with_for_update()):
        take = min(lot.remaining, left)
        lot.remaining -= take
        left -= take
        if left == 0:
            break
    if left:
        # balance and lots disagree: refuse rather than corrupt (doctor reports it)
        raise InsufficientPoints("Point lots do not cover the balance.", needed=points)


def balance_of(session: Session, member_id: int, currency: str) -> int:
    value = session.scalar(select(BALANCE_COLUMN[currency]).where(Member.id == member_id))
    if value is None:
        raise NotFound("Member not found.", member_id=member_id)
    return value


def lock_member(session: Session, member_id: int) -> Member:
    """Row-lock the member (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises).
    FOR NO KEY UPDATE: it serialises every caller, like the balance UPDATE's own
    lock, but does not wait on (or deadlock with) the key-share locks that
    inserting the member's purchases, entries or coupons takes."""
    member = session.scalar(
        select(Member).where(Member.id == member_id).with_for_update(key_share=True).execution_options(
            populate_existing=True
        )
    )
    if member is None:
        raise NotFound("Member not found.", member_id=member_id)
    return member


def debit_up_to(
    session: Session, *, member_id: int, currency: str, amount: int, **kwargs
) -> tuple[Posting | None, int]:
    """Debit as much of `amount` as the balance allows.
    Returns the posting (None if nothing could be taken) and the shortfall."""
    if amount <= 0:
        return None, 0
    existing = entry_by_key(session, kwargs["key"])
    if existing is not None:
        if existing.member_id != member_id or existing.currency != currency:
            raise IdempotencyConflict(key=existing.idempotency_key)
        posting = Posting(existing, balance_of(session, member_id, currency), True)
        return posting, amount + existing.amount
    member = lock_member(session, member_id)
    available = member.points_balance if currency == "points" else member.credit_balance
    take = min(available, amount)
    if take == 0:
        return None, amount
    posting = post(session, member_id=member_id, currency=currency, amount=-take, **kwargs)
    return posting, amount - take


# -- convenience names in the club's language ---------------------------------


def _one_way(session: Session, member_id: int, amount: int, *, currency: str, sign: int, kind: str,
             what: str, kwargs: dict) -> Posting:
    if amount <= 0:
        raise ValueError(f"{what} needs a positive amount")
    kwargs.setdefault("kind", kind)
    return post(session, member_id=member_id, currency=currency, amount=sign * amount, **kwargs)


def award_points(session: Session, member_id: int, points: int, **kwargs) -> Posting:
    return _one_way(session, member_id, points, currency="points", sign=1, kind="earn",
                    what="award_points", kwargs=kwargs)


def spend_points(session: Session, member_id: int, points: int, **kwargs) -> Posting:
    return _one_way(session, member_id, points, currency="points", sign=-1, kind="spend",
                    what="spend_points", kwargs=kwargs)


def grant_credit(session: Session, member_id: int, amount: int, **kwargs) -> Posting:
    return _one_way(session, member_id, amount, currency="credit", sign=1, kind="grant",
                    what="grant_credit", kwargs=kwargs)


def spend_credit(session: Session, member_id: int, amount: int, **kwargs) -> Posting:
    return _one_way(session, member_id, amount, currency="credit", sign=-1, kind="spend",
                    what="spend_credit", kwargs=kwargs)


@dataclass(frozen=True)
class Earning:
    """One of several point entries an event earns a member (`award_points_together`)."""

    points: int
    key: str
    source: tuple[str, object]
    description: str | None = None


def award_points_together(
    session: Session,
    member_id: int,
    earnings: list[Earning],
    *,
    now: datetime,
    expires_at: datetime | None,
    created_by: str = "system",
    member_values: dict | None = None,
    member_columns: tuple = (),
) -> tuple[dict[str, int], Row]:
    """The point entries one event earns one member (a purchase: its base rate
    and each earn rule) in three statements whatever their number: one INSERT …
    ON CONFLICT DO NOTHING RETURNING of the entries, one UPDATE of the balance,
    one INSERT of their lots. The caller holds the member's row lock. The UPDATE
    also sets `member_values` (e.g. the tier metric, recomputed by a subquery
    that sees these entries) and returns `member_columns` after the balance.
    Keys already posted are skipped, as replays (the same member and amount, else
    IdempotencyConflict). Returns {key: entry id} of the new entries and the row."""
    wanted = []
    for earning in earnings:
        if isinstance(earning.points, bool) or not isinstance(earning.points, int) or earning.points <= 0:
            raise ValueError("award_points_together needs positive integer amounts")
        wanted.append(earning)
    # executemany on the table (SQLAlchemy batches it into one INSERT): unlike a
    # multi-row .values(), its compiled form is cached, which matters per purchase
    table = LedgerEntry.__table__
    new = session.execute(
        insert_ignoring_duplicates(session, table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id, table.c.amount, table.c.idempotency_key),
        [{"member_id": member_id, "currency": "points", "amount": e.points, "kind": "earn",
          "source_type": e.source[0], "source_id": str(e.source[1]), "idempotency_key": e.key,
          "description": e.description, "created_by": created_by, "created_at": now} for e in wanted],
    ).all() if wanted else []
    if len(new) < len(wanted):
        _check_skipped_bulk_keys(session, [(member_id, e.points, e.key) for e in wanted],
                                 {r.idempotency_key for r in new})
    row = session.execute(
        update(Member).where(Member.id == member_id)
        .values({Member.points_balance: Member.points_balance + sum(r.amount for r in new),
                 **(member_values or {})})
        .returning(Member.points_balance, *member_columns)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        raise NotFound("Member not found.", member_id=member_id)
    loaded = session.identity_map.get(identity_key(Member, member_id))
    if loaded is not None:  # the UPDATE bypassed it: it learns the balance written
        set_committed_value(loaded, "points_balance", row.points_balance)
    if new:
        session.execute(insert(PointLot.__table__), [
            {"member_id": member_id, "entry_id": r.id, "amount": r.amount, "remaining": r.amount,
             "earned_at": now, "expires_at": expires_at} for r in new])
    return {r.idempotency_key: r.id for r in new}, row


@dataclass(frozen=True)
class BulkAward:
    entry_id: int
    member_id: int
    points: int
    key: str


BULK_CHUNK = 1000  # rows per statement: well under SQLite's bound-variable limit


def award_points_bulk(
    session: Session,
    rows,
    *,
    kind: str,
    now: datetime,
    expires_at: datetime | None,
    source_type: str | None,
    created_by: str = "system",
    description: str | None = None,
) -> list[BulkAward]:
    """Award points to many members set-wise: rows are (member_id, points, key).
    Per chunk: one INSERT … ON CONFLICT DO NOTHING on the idempotency key, the
    lots of the entries it inserted, and one UPDATE of the balances from their
    sums. Keys already posted are skipped (a key reused for another member or
    amount is an IdempotencyConflict), so running it twice changes nothing.
    Returns what was inserted."""
    rows = list(rows)
    seen: dict[str, tuple[int, int]] = {}
    for member_id, points, key in rows:
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise ValueError("award_points_bulk needs positive integer amounts")
        if seen.setdefault(key, (member_id, points)) != (member_id, points):
            raise IdempotencyConflict(key=key)
    rows = [(m, p, k) for k, (m, p) in seen.items()]
    inserted: list[BulkAward] = []
    for start in range(0, len(rows), BULK_CHUNK):
        chunk = rows[start:start + BULK_CHUNK]
        new = session.execute(
            insert_ignoring_duplicates(session, LedgerEntry).values([
                {"member_id": m, "currency": "points", "amount": p, "kind": kind,
                 "source_type": source_type, "idempotency_key": k, "description": description,
                 "created_by": created_by, "created_at": now} for m, p, k in chunk])
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.amount,
                       LedgerEntry.idempotency_key)
        ).all()
        _check_skipped_bulk_keys(session, chunk, {r.idempotency_key for r in new})
        inserted += _open_lots_and_move_balances(session, new, now=now, expires_at=expires_at)
    session.flush()
    return inserted


def award_points_from(
    session: Session,
    rows: Select,
    *,
    kind: str,
    now: datetime,
    expires_at: datetime | None,
    source_type: str | None,
    created_by: str = "system",
    description: str | None = None,
) -> list[BulkAward]:
    """`award_points_bulk` for rows the database already has: `rows` is a SELECT
    of (member_id, points, key) columns, posted with one INSERT … SELECT … ON
    CONFLICT DO NOTHING, so nothing travels through Python but the new ids.
    Keys already posted are skipped, and a key posted with another member or
    amount is an IdempotencyConflict, as in `award_points_bulk`."""
    source = rows.subquery()
    member_id, points, key = source.c
    entries = session.execute(
        insert_ignoring_duplicates(session, LedgerEntry).from_select(
            ["member_id", "currency", "amount", "kind", "source_type", "idempotency_key",
             "description", "created_by", "created_at"],
            select(member_id, literal("points"), points, literal(kind),
                   literal(source_type, String), key, literal(description, String),
                   literal(created_by), literal(now, UTCDateTime))
            .where(points > 0))  # a WHERE also lets SQLite parse ON CONFLICT after a SELECT
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.amount,
                   LedgerEntry.idempotency_key)
    ).all()
    clash = session.scalar(
        select(LedgerEntry.idempotency_key).join(source, LedgerEntry.idempotency_key == key)
        .where((LedgerEntry.member_id != member_id) | (LedgerEntry.amount != points)
               | (LedgerEntry.currency != "points")).limit(1))
    if clash is not None:
        raise IdempotencyConflict(key=clash)
    awarded = _open_lots_and_move_balances(session, entries, now=now, expires_at=expires_at)
    session.flush()
    return awarded


def _open_lots_and_move_balances(session: Session, new, *, now, expires_at) -> list[BulkAward]:
    """The lots of freshly inserted point entries and one UPDATE of the balances."""
    if not new:
        return []
    ids = [r.id for r in new]
    session.execute(insert(PointLot).from_select(
        ["member_id", "entry_id", "amount", "remaining", "earned_at", "expires_at"],
        select(LedgerEntry.member_id, LedgerEntry.id, LedgerEntry.amount, LedgerEntry.amount,
               literal(now, UTCDateTime), literal(expires_at, UTCDateTime))
        .where(in_ids(session, LedgerEntry.id, ids))))
    sums = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount).label("points"))
        .where(in_ids(session, LedgerEntry.id, ids))
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    session.execute(
        update(Member).where(Member.id == sums.c.member_id)
        .values(points_balance=Member.points_balance + sums.c.points)
        .execution_options(synchronize_session=False)
    )
    touched = {r.member_id for r in new}
    for obj in list(session.identity_map.values()):  # the UPDATE bypassed loaded members
        if isinstance(obj, Member) and obj.id in touched:
            session.expire(obj, ["points_balance"])
    return [BulkAward(r.id, r.member_id, r.amount, r.idempotency_key) for r in new]


def _check_skipped_bulk_keys(session: Session, chunk, inserted_keys: set[str]) -> None:
    skipped = {k: (m, p) for m, p, k in chunk if k not in inserted_keys}
    if not skipped:
        return
    for key, member_id, currency, amount in session.execute(
        select(LedgerEntry.idempotency_key, LedgerEntry.member_id, LedgerEntry.currency,
               LedgerEntry.amount).where(LedgerEntry.idempotency_key.in_(list(skipped)))
    ):
        if (member_id, amount) != skipped[key] or currency != "points":
            raise IdempotencyConflict(key=key)


# -- expiry ---------------------------------------------------------------------


def expire_lot(session: Session, lot_id: int, now: datetime) -> int:
    """Expire what is left of one due lot. Returns the points expired (0 if none)."""
    lot = session.get(PointLot, lot_id)
    if lot is None or lot.expires_at is None or lot.expires_at > now:
        return 0
    lock_member(session, lot.member_id)
    session.refresh(lot)  # a spend may have consumed it while we waited
    if lot.remaining == 0:
        return 0
    posting = post(
        session,
        member_id=lot.member_id,
        currency="points",
        amount=-lot.remaining,
        kind="expire",
        key=f"expire:lot:{lot.id}",
        now=now,
        source=("point_lot", lot.id),
        from_lot_id=lot.id,
    )
    return 0 if posting.replayed else -posting.entry.amount


def due_lot_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(PointLot.id)
            .where(PointLot.expires_at <= now, PointLot.remaining > 0)
            .order_by(PointLot.id)
            .limit(limit)
        )
    )


def expiring_fact(member_id: int, now: datetime, until: datetime) -> Select:
    """The member's points expiring in (now, until], per expiry time (`facts`)."""
    return (select(*facts.fact("expiring", n1=func.sum(PointLot.remaining), t1=PointLot.expires_at))
            .where(PointLot.member_id == member_id, PointLot.remaining > 0,
                   PointLot.expires_at > now, PointLot.expires_at <= until)
            .group_by(PointLot.expires_at))


def expiring_of(rows) -> list[tuple[datetime, int]]:
    """(expires_at, points) of `expiring_fact`'s rows, soonest first."""
    return sorted((row.t1, int(row.n1)) for row in rows)


# -- consistency ------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    member_id: int
    currency: str
    balance: int
    entries_sum: int
    lots_sum: int | None


def find_mismatches(session: Session) -> list[Mismatch]:
    """Members whose cached balance differs from the sum of their entries
    (or, for points, from the sum of their open lots). Set-based."""
    sums = (
        select(
            LedgerEntry.member_id,
            func.sum(case((LedgerEntry.currency == "points", LedgerEntry.amount), else_=0)).label(
                "points"
            ),
            func.sum(case((LedgerEntry.currency == "credit", LedgerEntry.amount), else_=0)).label(
                "credit"
            ),
        )
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    lots = (
        select(PointLot.member_id, func.sum(PointLot.remaining).label("remaining"))
        .group_by(PointLot.member_id)
        .subquery()
    )
    points_sum = func.coalesce(sums.c.points, 0)
    credit_sum = func.coalesce(sums.c.credit, 0)
    lots_sum = func.coalesce(lots.c.remaining, 0)
    rows = session.execute(
        select(Member.id, Member.points_balance, Member.credit_balance, points_sum, credit_sum, lots_sum)
        .outerjoin(sums, sums.c.member_id == Member.id)
        .outerjoin(lots, lots.c.member_id == Member.id)
        .where(
            (Member.points_balance != points_sum)
            | (Member.credit_balance != credit_sum)
            | (Member.points_balance != lots_sum)
        )
        .order_by(Member.id)
    ).all()
    found: list[Mismatch] = []
    for member_id, points, credit, p_sum, c_sum, l_sum in rows:
        if points != p_sum or points != l_sum:
            found.append(Mismatch(member_id, "points", points, p_sum, l_sum))
        if credit != c_sum:
            found.append(Mismatch(member_id, "credit", credit, c_sum, None))
    return found
