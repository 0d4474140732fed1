"""The contests a member sees on /contests: the definitions come from the club's
configuration cache (`config_cache`: creating, editing, publishing and
finalising a contest make a new version), the split into open, upcoming and
finished is made per request, and the member's own entries (for the list and
the play streak) are the page's one query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.models import Contest, ContestEntry
from webapp.services import config_cache
from webapp.services.play.contest_play import streak_length, streak_since

FINISHED_SHOWN = 10  # finished contests on the page, newest first


@dataclass(frozen=True)
class ContestCard:
    """What /contests shows of a contest: an immutable copy, shared by requests."""

    id: int
    kind: str
    name_fa: str
    name_en: str
    status: str
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class Played:
    """The member's entry, as the list shows it."""

    final_rank: int | None


Row = tuple[ContestCard, Played | None]


@dataclass
class ContestListing:
    open: list[Row] = field(default_factory=list)
    upcoming: list[Row] = field(default_factory=list)
    finished: list[Row] = field(default_factory=list)
    streak: int = 0  # club-local days in a row the member played


@dataclass(frozen=True)
class Shown:
    """Every published contest (soonest closing first) and the newest finalised
    ones: whatever the clock, the page's lists are cut from these."""

    published: tuple[ContestCard, ...]
    finalised: tuple[ContestCard, ...]


def _card(c: Contest) -> ContestCard:
    return ContestCard(c.id, c.kind, c.name_fa, c.name_en, c.status, c.opens_at, c.closes_at)


def _load(session: Session) -> Shown:
    published = session.scalars(select(Contest).where(Contest.status == "published")
                                .order_by(Contest.closes_at, Contest.id))
    finalised = session.scalars(select(Contest).where(Contest.status == "finalised")
                                .order_by(Contest.closes_at.desc(), Contest.id.desc()).limit(FINISHED_SHOWN))
    return Shown(tuple(map(_card, published)), tuple(map(_card, finalised)))


def shown(session: Session) -> Shown:
    return config_cache.cached(session, "contests.listing", _load)


def member_contests(session: Session, member_id: int, now: datetime, tz: str, *,
                    finished_limit: int = FINISHED_SHOWN) -> ContestListing:
    """Open and upcoming contests soonest closing first, finished ones newest
    first, each with the member's entry; and the member's play streak."""
    cards = shown(session)
    listing = ContestListing()
    closed = []
    for card in cards.published:
        if card.closes_at <= now:
            closed.append(card)
        elif card.opens_at > now:
            listing.upcoming.append((card, None))
        else:
            listing.open.append((card, None))
    finished = sorted((*closed, *cards.finalised), key=lambda c: (c.closes_at, c.id),
                      reverse=True)[:min(finished_limit, FINISHED_SHOWN)]
    listing.finished = [(card, None) for card in finished]
    ids = [card.id for rows in (listing.open, listing.upcoming, listing.finished) for card, _ in rows]
    since = streak_since(now)
    played: dict[int, Played] = {}
    started = []
    for contest_id, final_rank, started_at in session.execute(
            select(ContestEntry.contest_id, ContestEntry.final_rank, ContestEntry.started_at)
            .where(ContestEntry.member_id == member_id,
                   or_(ContestEntry.started_at >= since, ContestEntry.contest_id.in_(ids)))):
        played[contest_id] = Played(final_rank)
        if started_at >= since:
            started.append(started_at)
    for rows in (listing.open, listing.upcoming, listing.finished):
        rows[:] = [(card, played.get(card.id)) for card, _ in rows]
    listing.streak = streak_length(started, now, tz)
    return listing
