"""Club-wide configuration cached per process, exact to the transaction.

Pages and the purchase call read the same club configuration on every request:
the tier program, the active earn rules, the settings, the catalogs. It changes
when staff edit it, a few times a day. Each process keeps what it loaded beside
the configuration's *version*: one row (`club_config`) whose token every change
to a watched table replaces, in the transaction that makes the change (a flush
hook sees the ORM's changes; services that change such rows with bulk UPDATEs
call `changed`). A request reads the token once per transaction (the signed-in
account's query carries it, see `webapp.auth`) and uses the cache only while it
matches: a second process sees an edit with its next transaction, not after a
delay, and no Redis message can arrive late or be lost. The token is random,
not a counter: a rolled-back change must never leave a version number that a
later, different change reuses.

Cached values are shared by every request of the process: immutable snapshots
(frozen dataclasses, tuples) or rows expunged from their session that no code
changes or attaches to another one (the reward catalog, the challenges)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from webapp.models import (
    ClubConfig,
    ClubSetting,
    Contest,
    ContestQuestion,
    EarnRule,
    Raffle,
    RafflePrize,
    Reward,
    Segment,
    Survey,
    Tier,
    TierProgram,
)
from webapp.models.challenges import Challenge

T = TypeVar("T")

# the tables whose rows the cache serves, and their columns that member activity
# moves (a redemption counts issued coupons): those alone do not make a new version
WATCHED: dict[type, frozenset[str]] = {
    ClubSetting: frozenset(),
    TierProgram: frozenset(),
    Tier: frozenset(),
    EarnRule: frozenset({"points_awarded"}),  # each award spends the family's budget
    Reward: frozenset({"issued_count", "stock"}),  # stock: see rewards._take_stock
    Challenge: frozenset(),
    Contest: frozenset(),
    ContestQuestion: frozenset(),
    Raffle: frozenset({"entries_count", "tickets_total"}),  # moved by every ticket: entries._count
    RafflePrize: frozenset(),
    Segment: frozenset(),
    Survey: frozenset(),
}

VERSION = "vafa_config_version"  # session.info: the token this transaction read
CHANGED = "vafa_config_changed"  # session.info: this transaction changed the configuration

_cache: dict[str, tuple[str, object]] = {}
_lock = threading.Lock()


def version_column():
    """The token as a scalar subquery, to ride along with another query."""
    return select(ClubConfig.token).where(ClubConfig.id == 1).scalar_subquery()


def remember_version(session: Session, token: str | None) -> None:
    """Keep the token a query of this transaction read (`version_column`)."""
    session.info.setdefault(VERSION, token)


def current_version(session: Session) -> str | None:
    """This transaction's token, read once; None when the row is missing."""
    if VERSION not in session.info:
        session.info[VERSION] = session.scalar(select(ClubConfig.token).where(ClubConfig.id == 1))
    return session.info[VERSION]


def cached(session: Session, name: str, load: Callable[[Session], T]) -> T:
    """`load(session)`, computed once per process for each configuration version.
    A transaction that changed the configuration itself reads the database."""
    if session.info.get(CHANGED):
        return load(session)
    version = current_version(session)
    if version is None:
        return load(session)
    hit = _cache.get(name)
    if hit is not None and hit[0] == version:
        return hit[1]  # type: ignore[return-value]
    value = load(session)
    with _lock:
        _cache[name] = (version, value)
    return value


def changed(session: Session) -> None:
    """This transaction changes the configuration: a new token, once."""
    if session.info.get(CHANGED):
        return
    session.info[CHANGED] = True
    session.execute(update(ClubConfig).where(ClubConfig.id == 1).values(token=secrets.token_hex(16)))


def _watched_change(obj, new_or_deleted: bool) -> bool:
    volatile = WATCHED.get(type(obj))
    if volatile is None:
        return False
    if new_or_deleted or not volatile:
        return True
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in volatile)


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context, _instances) -> None:
    if session.info.get(CHANGED):
        return
    if any(_watched_change(o, True) for o in (*session.new, *session.deleted)) or any(
            _watched_change(o, False) for o in session.dirty if session.is_modified(o)):
        changed(session)


@event.listens_for(Session, "do_orm_execute")
def _on_bulk(execute_state) -> None:
    """UPDATE/DELETE/INSERT statements on watched tables, bypassing the flush."""
    if not (execute_state.is_update or execute_state.is_delete or execute_state.is_insert):
        return
    session = execute_state.session
    if session.info.get(CHANGED):
        return
    mapper = execute_state.bind_mapper
    model = mapper.class_ if mapper is not None else None
    if model is ClubConfig or model not in WATCHED:
        return
    statement = execute_state.statement
    columns = {c.key if hasattr(c, "key") else str(c) for c in getattr(statement, "_values", None) or {}}
    if execute_state.is_update and columns and columns <= WATCHED[model]:
        return
    changed(session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *_args) -> None:
    session.info.pop(VERSION, None)
    session.info.pop(CHANGED, None)


def clear() -> None:
    """Drop this process's cache (tests that compare a cold and a warm request)."""
    with _lock:
        _cache.clear()
