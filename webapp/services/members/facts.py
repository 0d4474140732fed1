"""A page's small facts about one member, read in one round trip.

/me shows a card per module: points expiring soon, the check-in streak, the
coupons held per reward, personal offers, the challenges joined. Each is a tiny
indexed read, and as a statement of its own each cost more in round trips and
driver work than in the database. So a module describes its fact as a SELECT of
one common row shape (`fact`), and `fetch` runs a page's facts as one UNION ALL
and hands each module back its own rows (in no particular order: SQL keeps
none through a UNION, so a module sorts what it needs sorted)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import BigInteger, String, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from webapp.models.types import UTCDateTime

SHAPE = {"ref": BigInteger(), "n1": BigInteger(), "n2": BigInteger(), "t1": UTCDateTime(), "t2": UTCDateTime(),
         "s": String()}


def fact(name: str, **columns) -> list:
    """The columns of a fact's SELECT: its name, then `ref`, `n1`, `n2` (integers),
    `t1`, `t2` (times) and `s` (text), NULL where the fact has nothing."""
    out = [literal(name, String()).label("fact")]
    for key, kind in SHAPE.items():
        value = columns.pop(key, None)
        out.append(type_coerce(value if value is not None else literal(None), kind).label(key))
    if columns:
        raise TypeError(f"unknown fact columns: {sorted(columns)}")
    return out


def fetch(session: Session, queries: Mapping[str, Select | list[Select]]) -> dict[str, list]:
    """Run the facts' SELECTs (one, or a list, per fact) as one statement:
    name → its rows (none: [])."""
    found: dict[str, list] = {name: [] for name in queries}
    flat = [q for query in queries.values() for q in (query if isinstance(query, list) else [query])]
    if not flat:
        return found
    # each member a subquery: a compound SELECT allows no ORDER BY/LIMIT of its own
    parts = [select(query.subquery()) for query in flat]
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    for row in session.execute(statement):
        found[row.fact].append(row)
    return found
