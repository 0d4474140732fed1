"""The member's invite funnel as counters (`referrer_tally`), moved in the same
transaction as what they count: an open recorded, a friend joining, a referral
changing status, a referrer paid or paid back. Every change is one
`UPDATE … SET n = n + :d` (an upsert for the first), never read-modify-write, so
concurrent opens cannot lose a count. Marketers' links are not counted here:
their reports read the rows with date ranges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import LedgerEntry, Referral, ReferralOpen, ReferrerTally

STATUSES = ("pending", "held", "qualified", "reversed")  # the funnel's; rejected/expired leave it
COUNTERS = ("opens", "signups", *STATUSES, "points_earned", "credit_earned")
EARNED = {"points": "points_earned", "credit": "credit_earned"}


def add(session: Session, member_id: int | None, **deltas: int) -> None:
    deltas = {name: n for name, n in deltas.items() if n}
    if member_id is None or not deltas:
        return
    table = ReferrerTally.__table__
    stmt = insert_ignoring_duplicates(session, ReferrerTally).values(member_id=member_id, **deltas)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.member_id],
        set_={name: table.c[name] + stmt.excluded[name] for name in deltas}))


def moved(session: Session, member_id: int | None, old: str, new: str) -> None:
    """A referral of this member went from status `old` to `new`."""
    deltas: Counter[str] = Counter()
    if old in STATUSES:
        deltas[old] -= 1
    if new in STATUSES:
        deltas[new] += 1
    add(session, member_id, **deltas)


def moved_many(session: Session, referrer_ids: Iterable[int | None], old: str, new: str) -> None:
    """A set-based status change: one counter update per referrer it touched."""
    for member_id, n in Counter(r for r in referrer_ids if r is not None).items():
        deltas: Counter[str] = Counter()
        if old in STATUSES:
            deltas[old] -= n
        if new in STATUSES:
            deltas[new] += n
        add(session, member_id, **deltas)


def earned(session: Session, member_id: int | None, currency: str, amount: int) -> None:
    """Points or credit the member received (or, negative, gave back) as a referrer."""
    add(session, member_id, **{EARNED[currency]: amount})


def read(session: Session, member_id: int) -> ReferrerTally:
    return session.get(ReferrerTally, member_id) or ReferrerTally(
        member_id=member_id, **dict.fromkeys(COUNTERS, 0))


# -- from the rows (the migration's backfill and `vafa doctor`) ----------------


def _counted_from_rows():
    """One select: each referrer's counters as the rows say."""
    opens = (select(ReferralOpen.referrer_id.label("member_id"), func.count().label("opens"))
             .where(ReferralOpen.referrer_id.is_not(None)).group_by(ReferralOpen.referrer_id).subquery())
    by_status = [func.coalesce(func.sum(case((Referral.status == s, 1), else_=0)), 0).label(s)
                 for s in STATUSES]
    joined = (select(Referral.referrer_id.label("member_id"), func.count().label("signups"), *by_status)
              .where(Referral.referrer_id.is_not(None)).group_by(Referral.referrer_id).subquery())
    earned_ = (select(LedgerEntry.member_id.label("member_id"),
                      *(func.coalesce(func.sum(case((LedgerEntry.currency == c, LedgerEntry.amount),
                                                    else_=0)), 0).label(col)
                        for c, col in EARNED.items()))
               .where(LedgerEntry.source_type == "referral",
                      LedgerEntry.idempotency_key.like("referral:%:referrer%"))
               .group_by(LedgerEntry.member_id).subquery())
    return opens, joined, earned_


def mismatches(session: Session) -> list[tuple[int, str, int, int]]:
    """(member id, counter, kept, from the rows) for every counter that disagrees."""
    opens, joined, earned_ = _counted_from_rows()
    found: list[tuple[int, str, int, int]] = []
    expected: dict[int, dict[str, int]] = {}
    for sub, names in ((opens, ("opens",)), (joined, ("signups", *STATUSES)),
                       (earned_, tuple(EARNED.values()))):
        for row in session.execute(select(sub)):
            expected.setdefault(row.member_id, {}).update({n: int(row._mapping[n]) for n in names})
    kept = {t.member_id: t for t in session.scalars(select(ReferrerTally))}
    for member_id in expected.keys() | kept.keys():
        rows, tally = expected.get(member_id, {}), kept.get(member_id)
        for name in COUNTERS:
            want, have = rows.get(name, 0), getattr(tally, name) if tally else 0
            if want != have:
                found.append((member_id, name, have, want))
    return sorted(found)
