"""What a purchase asks of the challenges, cheaply: which are running (cached
per configuration version, so a club with none reads no challenge table), and
the recount of the buyer's open entries in one UPDATE for goals counted in
purchases or spend. `challenges` completes and rewards what reached its goal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from webapp.models import Challenge, ChallengeEntry, Purchase
from webapp.services import config_cache


@dataclass(frozen=True)
class Running:
    """An active challenge as a purchase needs it, before it queries any entry."""

    id: int
    starts_at: datetime
    ends_at: datetime
    perk_multiplier_bp: int | None
    metric: str
    goal: int


def running_challenges(session: Session) -> tuple[Running, ...]:
    """The active challenges (`config_cache`: staff edits make a new version)."""
    return config_cache.cached(session, "running_challenges", lambda s: tuple(
        Running(*row) for row in s.execute(
            select(Challenge.id, Challenge.starts_at, Challenge.ends_at, Challenge.perk_multiplier_bp,
                   Challenge.metric, Challenge.goal)
            .where(Challenge.status == "active").order_by(Challenge.id))))


def running_at(session: Session, when: datetime) -> list[Running]:
    return [c for c in running_challenges(session) if c.starts_at <= when < c.ends_at]


def window_start(entry_col_joined, challenge_col_starts):
    # max(joined_at, starts_at), spelled portably (SQLite has no GREATEST)
    return case((entry_col_joined > challenge_col_starts, entry_col_joined), else_=challenge_col_starts)


def recount_after_purchase(session: Session, member_id: int, when: datetime, goals: dict[int, int]) -> list[int]:
    """`challenges._move_on` for goals counted in purchases or spend, when the
    caller (a purchase) holds the member's row lock: one UPDATE recounts, and
    locks, every open entry whose window holds `when` (the count and the sum
    are the ones `challenges.progress_of` makes). Returns the ids of entries that
    reached their goal (`goals`: challenge id → goal)."""
    start = window_start(ChallengeEntry.joined_at, Challenge.starts_at)
    in_window = and_(Purchase.member_id == ChallengeEntry.member_id, Purchase.occurred_at >= start,
                     Purchase.occurred_at < Challenge.ends_at)
    count = (select(func.count(Purchase.id)).where(in_window, Purchase.refunded_amount < Purchase.amount)
             .correlate(ChallengeEntry, Challenge).scalar_subquery())
    spend = (select(func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0)).where(in_window)
             .correlate(ChallengeEntry, Challenge).scalar_subquery())
    written = session.execute(
        update(ChallengeEntry)
        .where(ChallengeEntry.challenge_id == Challenge.id, ChallengeEntry.member_id == member_id,
               ChallengeEntry.completed_at.is_(None), Challenge.status == "active", start <= when,
               Challenge.ends_at > when)
        .values(progress=case((Challenge.metric == "purchase_count", count), (spend > 0, spend), else_=0))
        .returning(ChallengeEntry.id, ChallengeEntry.challenge_id, ChallengeEntry.progress)
        .execution_options(synchronize_session=False)
    ).all()
    for row in written:  # entries this session loaded learn what was written
        loaded = session.identity_map.get(identity_key(ChallengeEntry, row.id))
        if loaded is not None:
            set_committed_value(loaded, "progress", row.progress)
    return [r.id for r in written if r.progress >= goals.get(r.challenge_id, 0)]
