"""The raffles a member sees on /raffles: the definitions come from the club's
configuration cache (`config_cache`: a staff edit, a publish, the close or the
draw makes a new version), the time-dependent split into open and past is made
per request, and the member's own tickets are the page's one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Raffle, RaffleEntry, RafflePrize
from webapp.services import config_cache

PAST_SHOWN = 10  # past raffles on the page, newest first


@dataclass(frozen=True)
class PrizeLine:
    name_fa: str
    name_en: str
    quantity: int
    kind: str
    amount: int


@dataclass(frozen=True)
class RaffleCard:
    """What /raffles shows of a raffle: an immutable copy, shared by requests."""

    id: int
    name_fa: str
    name_en: str
    status: str
    ticket_price: int
    closes_at: datetime
    draw_at: datetime
    drawn_at: datetime | None
    prizes: tuple[PrizeLine, ...]


@dataclass(frozen=True)
class Shown:
    """Every open raffle (soonest closing first) and the newest closed or drawn
    ones: whatever the clock, the page's lists are cut from these."""

    open: tuple[RaffleCard, ...]
    finished: tuple[RaffleCard, ...]


@dataclass(frozen=True)
class ListedRaffle:
    raffle: RaffleCard
    my_tickets: int = 0

    @property
    def prizes(self) -> tuple[PrizeLine, ...]:
        return self.raffle.prizes


def _load(session: Session) -> Shown:
    opened = list(session.scalars(select(Raffle).where(Raffle.status == "open")
                                  .order_by(Raffle.closes_at, Raffle.id)))
    finished = list(session.scalars(select(Raffle).where(Raffle.status.in_(("closed", "drawn")))
                                    .order_by(Raffle.closes_at.desc(), Raffle.id.desc()).limit(PAST_SHOWN)))
    ids = [r.id for r in (*opened, *finished)]
    prizes: dict[int, list[PrizeLine]] = {rid: [] for rid in ids}
    if ids:
        for p in session.scalars(select(RafflePrize).where(RafflePrize.raffle_id.in_(ids))
                                 .order_by(RafflePrize.raffle_id, RafflePrize.position)):
            prizes[p.raffle_id].append(PrizeLine(p.name_fa, p.name_en, p.quantity, p.kind, p.amount))

    def card(r: Raffle) -> RaffleCard:
        return RaffleCard(r.id, r.name_fa, r.name_en, r.status, r.ticket_price, r.closes_at, r.draw_at,
                          r.drawn_at, tuple(prizes[r.id]))

    return Shown(tuple(map(card, opened)), tuple(map(card, finished)))


def shown(session: Session) -> Shown:
    return config_cache.cached(session, "raffles.listing", _load)


def listing(session: Session, member_id: int, now: datetime,
            past_limit: int = PAST_SHOWN) -> tuple[list[ListedRaffle], list[ListedRaffle]]:
    """(open raffles soonest closing first, past raffles newest first), each with
    the member's tickets. An open raffle past its close time (the close job has
    not run yet) is already past."""
    cards = shown(session)
    open_now = [r for r in cards.open if now < r.closes_at]
    past = sorted((*(r for r in cards.open if r.closes_at <= now), *cards.finished),
                  key=lambda r: (r.closes_at, r.id), reverse=True)[:min(past_limit, PAST_SHOWN)]
    ids = [r.id for r in (*open_now, *past)]
    mine: dict[int, int] = {}
    if ids:
        mine = dict(session.execute(select(RaffleEntry.raffle_id, RaffleEntry.tickets).where(
            RaffleEntry.member_id == member_id, RaffleEntry.raffle_id.in_(ids))).all())
    return ([ListedRaffle(r, int(mine.get(r.id, 0))) for r in open_now],
            [ListedRaffle(r, int(mine.get(r.id, 0))) for r in past])
