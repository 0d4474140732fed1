"""Raffles, the member side: buying tickets, turning a coupon into tickets,
the tier's extra tickets, and the raffles a member sees with their odds.

Locks: the raffle row FOR KEY SHARE (many members buy at once), then the member
FOR NO KEY UPDATE (one member's requests queue up, so the cap and the
balance are exact); see the package's docstring for the order."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    Coupon,
    Member,
    Raffle,
    RaffleEntry,
    RafflePrize,
    RaffleTickets,
    Tier,
)
from webapp.services import ledger, tiers
from webapp.services.errors import (
    DomainError,
    IdempotencyConflict,
    InsufficientPoints,
    MemberNotActive,
    NotFound,
)
from webapp.services.offers import earn_rules, rewards, segments
from webapp.services.play.raffles.setup import (
    BP,
    ENTRY_CODE_BYTES,
    MAX_BUY,
    RaffleInvalid,
    int_in,
    locked,
    winners_of,
)


class RaffleClosed(DomainError):
    """This raffle is not open for entries."""

    code = "raffle_closed"
    status = 409


class RaffleNotEligible(DomainError):
    """The member may not enter this raffle."""

    code = "raffle_not_eligible"
    status = 403


class TicketLimitReached(DomainError):
    """That would be more tickets than one member may have in this raffle."""

    code = "raffle_ticket_limit"
    status = 409


class TicketsNotForSale(DomainError):
    """Tickets of this raffle only come free (coupons, tier perks)."""

    code = "raffle_not_for_sale"
    status = 409


class CouponNotApplicable(DomainError):
    """This coupon cannot be used for raffle tickets (used, expired or another kind)."""

    code = "raffle_coupon_not_applicable"
    status = 409


# -- members: entering -----------------------------------------------------------------------


@dataclass(frozen=True)
class TicketsAdded:
    entry: RaffleEntry
    added: int
    replayed: bool = False  # the key had already added these tickets
    perk_tickets: int = 0  # the tier's extra tickets, given with the first entry


def is_open(raffle: Raffle, now: datetime) -> bool:
    return raffle.status == "open" and now < raffle.closes_at


def _open_for_entries(session: Session, raffle_id: int, now: datetime) -> Raffle:
    # FOR KEY SHARE: buys run side by side, the close (FOR UPDATE) waits for them
    raffle = locked(session, raffle_id, read=True)
    if raffle.status == "draft":
        raise NotFound("Raffle not found.", raffle_id=raffle_id)
    if not is_open(raffle, now):
        raise RaffleClosed(raffle_id=raffle_id)
    return raffle


def eligible(session: Session, raffle: Raffle, member: Member, now: datetime) -> bool:
    if raffle.min_tier_id is not None:
        needed = session.scalar(select(Tier.rank).where(Tier.id == raffle.min_tier_id))
        level = tiers.member_level(session, member)
        if needed is not None and (level.rank if level else 0) < needed:
            return False
    return raffle.segment_id is None or segments.contains(session, raffle.segment_id, member.id, now)


def _member_for_entry(session: Session, raffle: Raffle, member_id: int, now: datetime) -> Member:
    member = ledger.lock_member(session, member_id)  # this member's tickets queue here
    if not member.is_active:
        raise MemberNotActive(member_id=member_id)
    if not eligible(session, raffle, member, now):
        raise RaffleNotEligible(raffle_id=raffle.id)
    return member


def entry_of(session: Session, raffle_id: int, member_id: int) -> RaffleEntry | None:
    return session.scalar(select(RaffleEntry).where(RaffleEntry.raffle_id == raffle_id,
                                                    RaffleEntry.member_id == member_id)
                          .execution_options(populate_existing=True))


def _entry_for(session: Session, raffle: Raffle, member_id: int, now: datetime) -> tuple[RaffleEntry, bool]:
    """The member's entry, made with a fresh random code if there is none (a code
    taken by another entry, 48 random bits, is simply drawn again)."""
    for _attempt in range(5):
        entry = entry_of(session, raffle.id, member_id)
        if entry is not None:
            return entry, False
        session.execute(
            insert_ignoring_duplicates(session, RaffleEntry)
            .values(raffle_id=raffle.id, member_id=member_id, code=secrets.token_hex(ENTRY_CODE_BYTES),
                    tickets=0, bought=0, from_coupons=0, from_perks=0, created_at=now)
            .on_conflict_do_nothing())
        entry = entry_of(session, raffle.id, member_id)
        if entry is not None:
            return entry, True
    raise RuntimeError("could not draw a free entry code")


def _tickets_by_key(session: Session, key: str) -> RaffleTickets | None:
    return session.scalar(select(RaffleTickets).where(RaffleTickets.key == key))


def _replay(session: Session, done: RaffleTickets, raffle_id: int, member_id: int) -> TicketsAdded:
    if (done.raffle_id, done.member_id) != (raffle_id, member_id):
        raise IdempotencyConflict(key=done.key)
    return TicketsAdded(entry=session.get(RaffleEntry, done.entry_id, populate_existing=True),
                        added=done.quantity, replayed=True)


def _check_cap(raffle: Raffle, entry: RaffleEntry, quantity: int) -> None:
    left = raffle.max_tickets_per_member - entry.bought - entry.from_coupons
    if quantity > left:
        raise TicketLimitReached(raffle_id=raffle.id, left=max(left, 0))


def _add(session: Session, raffle: Raffle, entry: RaffleEntry, *, source: str, quantity: int, key: str,
         now: datetime, points: int = 0, coupon_id: int | None = None) -> RaffleTickets:
    column = {"buy": RaffleEntry.bought, "coupon": RaffleEntry.from_coupons, "perk": RaffleEntry.from_perks}[source]
    added = RaffleTickets(raffle_id=raffle.id, entry_id=entry.id, member_id=entry.member_id, source=source,
                          quantity=quantity, points_spent=points, coupon_id=coupon_id, key=key, created_at=now)
    session.add(added)
    session.flush()
    stmt = update(RaffleEntry).where(RaffleEntry.id == entry.id)
    if source != "perk":  # the guard: the member lock already makes this exact
        stmt = stmt.where(RaffleEntry.bought + RaffleEntry.from_coupons + quantity <= raffle.max_tickets_per_member)
    tickets = session.execute(
        stmt.values({column: column + quantity, RaffleEntry.tickets: RaffleEntry.tickets + quantity})
        .returning(RaffleEntry.tickets).execution_options(synchronize_session=False)).scalar_one_or_none()
    if tickets is None:
        raise TicketLimitReached(raffle_id=raffle.id, left=0)
    session.expire(entry)
    _count(session, raffle, tickets=quantity, entries=1 if tickets == quantity else 0)
    return added


def _count(session: Session, raffle: Raffle, *, tickets: int, entries: int) -> None:
    """The raffle's counters move with the tickets, in the same transaction and
    by increment (concurrent buyers never read-modify-write them); volatile in
    `config_cache.WATCHED`, so a ticket is no new configuration version."""
    session.execute(update(Raffle).where(Raffle.id == raffle.id)
                    .values(tickets_total=Raffle.tickets_total + tickets,
                            entries_count=Raffle.entries_count + entries)
                    .execution_options(synchronize_session=False))
    session.expire(raffle, ["tickets_total", "entries_count"])


def _on_first_entry(session: Session, raffle: Raffle, member: Member, entry: RaffleEntry, now: datetime) -> int:
    """The tier's extra tickets (on top of the cap) and the `raffle_entered`
    earn rules, once per member and raffle (both keyed)."""
    level = tiers.member_level(session, member)
    extra = level.perks.get("extra_raffle_tickets", 0) if level is not None else 0
    given = 0
    if isinstance(extra, int) and not isinstance(extra, bool) and extra > 0:
        key = f"raffle:{raffle.id}:perk:{member.id}"
        if _tickets_by_key(session, key) is None:
            _add(session, raffle, entry, source="perk", quantity=extra, key=key, now=now)
            given = extra
    earn_rules.award_for_event(session, member_id=member.id, trigger="raffle_entered",
                               event_key=f"raffle:{raffle.id}:{member.id}", now=now,
                               created_by=f"member:{member.id}")
    return given


def buy_tickets(session: Session, *, raffle_id: int, member_id: int, quantity: int, request_key: str,
                now: datetime) -> TicketsAdded:
    """Spend `quantity` × the price on tickets, once per `request_key` (the
    member's one-time form token)."""
    key = f"raffle-buy:{request_key}"[:120]
    raffle = _open_for_entries(session, raffle_id, now)
    member = _member_for_entry(session, raffle, member_id, now)
    done = _tickets_by_key(session, key)
    if done is not None:
        return _replay(session, done, raffle_id, member_id)
    if raffle.ticket_price == 0:
        raise TicketsNotForSale(raffle_id=raffle_id)
    if not int_in(quantity, 1, MAX_BUY):
        raise RaffleInvalid({"quantity": "ticket_quantity"})
    cost = quantity * raffle.ticket_price
    entry = entry_of(session, raffle_id, member_id)
    if entry is not None:
        _check_cap(raffle, entry, quantity)
    elif quantity > raffle.max_tickets_per_member:
        raise TicketLimitReached(raffle_id=raffle_id, left=raffle.max_tickets_per_member)
    if member.points_balance < cost:  # the member is locked: this is exact
        raise InsufficientPoints(needed=cost, balance=member.points_balance)
    try:
        with session.begin_nested():
            entry, first = _entry_for(session, raffle, member_id, now)
            added = _add(session, raffle, entry, source="buy", quantity=quantity, key=key, now=now, points=cost)
            ledger.spend_points(session, member_id, cost, key=f"raffle:{raffle_id}:tickets:{added.id}", now=now,
                                source=("raffle", raffle_id), created_by=f"member:{member_id}",
                                description=f"Raffle tickets: {raffle.name_en}")
    except IntegrityError:
        done = _tickets_by_key(session, key)  # a twin with the same key won
        if done is None:
            raise
        return _replay(session, done, raffle_id, member_id)
    perk = _on_first_entry(session, raffle, member, entry, now) if first else 0
    return TicketsAdded(entry=entry_of(session, raffle_id, member_id), added=quantity, perk_tickets=perk)


def ticket_coupons(session: Session, member_id: int, now: datetime) -> list[Coupon]:
    """The member's raffle-ticket coupons that can still be used."""
    return list(session.scalars(
        select(Coupon).where(Coupon.member_id == member_id, Coupon.kind == "raffle_tickets",
                             Coupon.status == "issued",
                             (Coupon.expires_at.is_(None)) | (Coupon.expires_at > now))
        .order_by(Coupon.issued_at, Coupon.id)))


def apply_coupon(session: Session, *, raffle_id: int, member_id: int, coupon_id: int,
                 now: datetime) -> TicketsAdded:
    """Turn one of the member's `raffle_tickets` coupons into tickets of this
    raffle (within the cap). The coupon becomes used; a coupon counts once."""
    raffle = _open_for_entries(session, raffle_id, now)
    member = _member_for_entry(session, raffle, member_id, now)
    coupon = session.scalar(select(Coupon).where(Coupon.id == coupon_id, Coupon.member_id == member_id)
                            .with_for_update().execution_options(populate_existing=True))
    if coupon is None:
        raise NotFound("Coupon not found.", coupon_id=coupon_id)
    # per raffle: a coupon given back by a cancelled raffle can enter another one
    # (the coupon's row lock and status keep it to one raffle at a time)
    key = f"raffle-coupon:{raffle_id}:{coupon_id}"
    done = _tickets_by_key(session, key)
    if done is not None:
        return _replay(session, done, raffle_id, member_id)
    if coupon.kind != "raffle_tickets" or rewards.effective_status(coupon, now) != "issued" or coupon.value < 1:
        raise CouponNotApplicable(coupon_id=coupon_id)
    entry = entry_of(session, raffle_id, member_id)
    if entry is not None:
        _check_cap(raffle, entry, coupon.value)
    elif coupon.value > raffle.max_tickets_per_member:
        raise TicketLimitReached(raffle_id=raffle_id, left=raffle.max_tickets_per_member)
    entry, first = _entry_for(session, raffle, member_id, now)
    _add(session, raffle, entry, source="coupon", quantity=coupon.value, key=key, now=now, coupon_id=coupon_id)
    coupon.status, coupon.used_at, coupon.used_ref = "used", now, f"raffle:{raffle_id}"
    perk = _on_first_entry(session, raffle, member, entry, now) if first else 0
    return TicketsAdded(entry=entry_of(session, raffle_id, member_id), added=coupon.value, perk_tickets=perk)


def odds_bp(my_tickets: int, total_tickets: int) -> int:
    """The member's share of all tickets in basis points (rounded down): for one
    winner, the chance to win."""
    return my_tickets * BP // total_tickets if total_tickets else 0


@dataclass
class MemberRaffle:
    raffle: Raffle
    prizes: list[RafflePrize] = field(default_factory=list)
    entry: RaffleEntry | None = None
    total_tickets: int = 0
    entries: int = 0

    @property
    def my_tickets(self) -> int:
        return self.entry.tickets if self.entry else 0

    @property
    def odds_bp(self) -> int:
        return odds_bp(self.my_tickets, self.total_tickets)

    @property
    def winners(self) -> int:
        return winners_of(self.prizes)


def member_raffles(session: Session, member_id: int | None, raffle_ids) -> list[MemberRaffle]:
    """Each raffle with its prizes, totals (its counters) and the member's own
    entry (a fixed number of queries whatever the number of raffles)."""
    ids = list(raffle_ids)
    if not ids:
        return []
    raffles = {r.id: r for r in session.scalars(select(Raffle).where(Raffle.id.in_(ids)))}
    items = {rid: MemberRaffle(raffles[rid]) for rid in ids if rid in raffles}
    for prize in session.scalars(select(RafflePrize).where(RafflePrize.raffle_id.in_(ids))
                                 .order_by(RafflePrize.raffle_id, RafflePrize.position)):
        items[prize.raffle_id].prizes.append(prize)
    for item in items.values():  # the raffle's counters: nothing here counts entries
        item.total_tickets, item.entries = item.raffle.tickets_total, item.raffle.entries_count
    if member_id is not None:
        for entry in session.scalars(select(RaffleEntry).where(RaffleEntry.raffle_id.in_(ids),
                                                                RaffleEntry.member_id == member_id)):
            items[entry.raffle_id].entry = entry
    return list(items.values())


def public_raffle(session: Session, raffle_id: int) -> Raffle:
    """A published raffle (drafts do not exist for members)."""
    raffle = session.get(Raffle, raffle_id)
    if raffle is None or raffle.status == "draft":
        raise NotFound("Raffle not found.", raffle_id=raffle_id)
    return raffle


