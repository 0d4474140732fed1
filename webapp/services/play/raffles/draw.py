"""The raffle draw: freeze the entries at the close, draw with `games.raffle`
exactly as a verifier would, and give each place its prize through
`prizes.give` (each step its own transaction; see jobs/raffles.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import games.raffle as engine
from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    Member,
    Raffle,
    RaffleEntry,
    RafflePrize,
    RaffleWinner,
)
from webapp.services import messages
from webapp.services.play import prizes
from webapp.services.play.raffles.setup import locked, prizes_of, winners_of


def close_due_ids(session: Session, now: datetime) -> list[int]:
    """Open raffles past their close time."""
    return list(session.scalars(select(Raffle.id).where(Raffle.status == "open", Raffle.closes_at <= now)
                                .order_by(Raffle.id)))


def draw_due_ids(session: Session, now: datetime) -> list[int]:
    """Raffles whose draw can run now: closed or to be closed, past the draw
    time (or staff said "draw now"), their public value entered if one was
    named; and drawn raffles whose prizes are not all given yet."""
    ready = ((Raffle.draw_at <= now) | Raffle.draw_requested_at.is_not(None)) & (
        Raffle.public_value_source.is_(None) | Raffle.public_value.is_not(None))
    return list(session.scalars(select(Raffle.id).where(
        ((Raffle.status.in_(("open", "closed"))) & (Raffle.closes_at <= now) & ready)
        | ((Raffle.status == "drawn") & Raffle.awarded_at.is_(None))).order_by(Raffle.id)))


def freeze_entries(session: Session, raffle_id: int, now: datetime) -> bool:
    """Open → closed: the canonical entry file (entries with tickets) and its
    digest are stored. Waits for buys in flight (the FOR UPDATE). Returns
    whether it froze now."""
    raffle = locked(session, raffle_id)
    if raffle.status != "open" or now < raffle.closes_at:
        return False
    rows = session.execute(select(RaffleEntry.code, RaffleEntry.tickets)
                           .where(RaffleEntry.raffle_id == raffle_id, RaffleEntry.tickets > 0)).all()
    data = engine.entries_file(engine.Entry(code, int(tickets)) for code, tickets in rows)
    raffle.entries_file, raffle.entries_digest = data, engine.entries_digest(data)
    raffle.entries_count, raffle.tickets_total = len(rows), sum(int(t) for _c, t in rows)
    raffle.status, raffle.closed_at = "closed", now
    session.flush()
    return True


def draw_ready(raffle: Raffle, now: datetime) -> bool:
    return (raffle.status == "closed" and (now >= raffle.draw_at or raffle.draw_requested_at is not None)
            and (not raffle.public_value_source or raffle.public_value is not None))


def draw_winners(session: Session, raffle_id: int, now: datetime) -> bool:
    """Closed → drawn: run the draw on the stored file exactly as a verifier
    would, store the winners and alternates (unique on raffle and rank) and
    reveal the seed. Returns whether it drew now."""
    raffle = locked(session, raffle_id)
    if not draw_ready(raffle, now):
        return False
    count = winners_of(prizes_of(session, raffle_id))
    result = engine.verify(raffle.entries_file, raffle.seed.hex(), raffle.public_value or "", raffle.id,
                           count, raffle.alternates, commitment_hex=raffle.commitment)
    drawn = list(result.winners) + list(result.alternates)
    ids = dict(session.execute(select(RaffleEntry.code, RaffleEntry.id)
                               .where(RaffleEntry.raffle_id == raffle_id, RaffleEntry.code.in_(drawn))).all())
    if drawn:
        session.execute(
            insert_ignoring_duplicates(session, RaffleWinner).values([
                {"raffle_id": raffle_id, "rank": rank, "entry_id": ids[code], "entry_code": code,
                 "slot": rank if rank <= len(result.winners) else None, "forfeited": False}
                for rank, code in enumerate(drawn, start=1)])
            .on_conflict_do_nothing(index_elements=["raffle_id", "rank"]))
    raffle.draw_key, raffle.status, raffle.drawn_at = result.key_hex, "drawn", now
    session.flush()
    return True


def prize_slots(prizes) -> list[RafflePrize]:
    """Prize of each place: slot n (1-based) is index n-1."""
    return [p for p in prizes for _ in range(p.quantity)]


def award_prizes(session: Session, raffle_id: int, now: datetime) -> bool:
    """Give each place's prize to its winner. A winner whose account is no
    longer active forfeits: the place goes to the next alternate (in rank
    order) whose account is active; with none left it stays unawarded. Keys
    `raffle:{id}:prize:{place}`, so a rerun gives nothing twice."""
    raffle = locked(session, raffle_id)
    if raffle.status != "drawn" or raffle.awarded_at is not None:
        return False
    slots = prize_slots(prizes_of(session, raffle_id))
    rows = session.execute(select(RaffleWinner, RaffleEntry.member_id, Member.status)
                           .join(RaffleEntry, RaffleEntry.id == RaffleWinner.entry_id)
                           .join(Member, Member.id == RaffleEntry.member_id)
                           .where(RaffleWinner.raffle_id == raffle_id).order_by(RaffleWinner.rank)).all()
    member_of = {w.id: (member_id, status) for w, member_id, status in rows}
    holders = {w.slot: w for w, _m, _s in rows if w.slot is not None}
    waiting = [w for w, _m, _s in rows if w.slot is None and not w.forfeited]
    for place, prize in enumerate(slots, start=1):
        holder = holders.get(place)
        while holder is not None and holder.awarded_at is None and member_of[holder.id][1] != "active":
            holder.forfeited, holder.slot = True, None
            holder = waiting.pop(0) if waiting else None
            if holder is not None:
                holder.slot = place
        if holder is not None and holder.awarded_at is None:
            _give(session, raffle, prize, place, holder, member_of[holder.id][0], now)
    raffle.awarded_at = now
    session.flush()
    return True


def _give(session: Session, raffle: Raffle, prize: RafflePrize, place: int, winner: RaffleWinner,
          member_id: int, now: datetime) -> None:
    if prize.kind in prizes.PRIZE_KINDS:  # a physical prize is handed over by the club
        # a reward out of stock or withdrawn: staff see the place without a coupon
        given = prizes.give(session, member_id=member_id, kind=prize.kind, amount=prize.amount,
                            reward_id=prize.reward_id, key=f"raffle:{raffle.id}:prize:{place}", now=now,
                            source=("raffle", raffle.id), description=f"Raffle prize: {raffle.name_en}",
                            expiring=False)
        winner.coupon_id = given.coupon_id
    winner.awarded_at = now
    messages.notify(session, member_id=member_id, kind="raffle_won", key=f"raffle:{raffle.id}:won:{place}",
                       now=now, params={"raffle_id": raffle.id, "name_fa": raffle.name_fa, "name_en": raffle.name_en,
                                        "prize_fa": prize.name_fa, "prize_en": prize.name_en, "kind": prize.kind,
                                        "amount": prize.amount, "coupon": winner.coupon_id is not None})
