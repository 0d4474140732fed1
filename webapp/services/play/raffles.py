"""Raffles: staff define and publish them, members buy tickets (or use
coupons, or get their tier's extra tickets), and the draw job freezes the
entries, draws with `games.raffle` and gives the prizes.

Locks, always in this order, so nothing deadlocks: the raffle row first, then
the member. Adding tickets takes the raffle row FOR SHARE (many members buy at
once) and the member FOR NO KEY UPDATE (one member's requests queue up, so the
cap and the balance are exact); freezing, drawing, awarding and cancelling take
the raffle FOR UPDATE, which waits for every buy in flight, so the frozen list is
exactly what was bought before the close. On SQLite every write transaction is
serialised by BEGIN IMMEDIATE anyway.

The draw is commit-reveal: the seed is drawn when the raffle is published and
only its sha256 is shown until the winners are stored; the entry list is the
canonical file of `games.raffle`, kept byte for byte, so anyone can re-run the
draw (`python -m games.raffle verify`)."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from sqlalchemy import String, cast, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import games.raffle as engine
from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    PRIZE_KINDS,
    Coupon,
    Member,
    Raffle,
    RaffleEntry,
    RafflePrize,
    RaffleTickets,
    RaffleWinner,
    Reward,
    Segment,
    Tier,
)
from webapp.services import ledger, tiers
from webapp.services.errors import (
    Conflict,
    DomainError,
    IdempotencyConflict,
    InsufficientPoints,
    MemberNotActive,
    NotFound,
    ProblemsInvalid,
)
from webapp.services.members import audit, inbox
from webapp.services.offers import earn_rules, rewards, segments
from webapp.services.play import prizes

MAX_NAME = 120
GONE = {"min_tier_id": "tier_gone", "segment_id": "segment_gone"}  # an id that no longer exists
MAX_PRIZE_LINES = 5
MAX_WINNERS = 100
MAX_ALTERNATES = 20
MAX_PRICE = 10_000_000
MAX_CAP = 10_000  # tickets one member may buy or redeem in one raffle
MAX_PRIZE_AMOUNT = 100_000_000
MAX_BUY = MAX_CAP
BP = 10_000
ENTRY_CODE_BYTES = 6  # 12 hex characters: 48 random bits
# what members rely on once the raffle is published
LOCKED_FIELDS = ("ticket_price", "max_tickets_per_member", "closes_at", "draw_at", "alternates",
                 "public_value_source", "prizes")


# -- domain errors -------------------------------------------------------------------------


class RaffleInvalid(ProblemsInvalid):
    """The raffle is not valid."""

    code = "raffle_invalid"


class RaffleLocked(Conflict):
    """The raffle is published: its prizes, price, cap and times are fixed."""

    code = "raffle_locked"


class RaffleWrongStatus(Conflict):
    """The raffle is not in a state that allows this."""

    code = "raffle_wrong_status"


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


# -- staff: define, publish, cancel ---------------------------------------------------------


@dataclass(frozen=True)
class PrizeSpec:
    name_fa: str
    name_en: str
    quantity: int
    kind: str  # points | credit | reward | physical
    amount: int = 0
    reward_id: int | None = None


@dataclass(frozen=True)
class RaffleSpec:
    """What staff define; times are UTC instants (the admin form converts club-local days)."""

    name_fa: str
    name_en: str
    ticket_price: int
    max_tickets_per_member: int
    closes_at: datetime
    draw_at: datetime
    prizes: tuple[PrizeSpec, ...]
    description_fa: str | None = None
    description_en: str | None = None
    min_tier_id: int | None = None
    segment_id: int | None = None
    alternates: int = 0
    public_value_source: str | None = None


def winners_of(prizes) -> int:
    return sum(p.quantity for p in prizes)


def check_spec(session: Session, spec: RaffleSpec) -> dict[str, str]:
    """Problems as field -> code; empty when valid."""
    problems: dict[str, str] = {}
    if not (spec.name_fa or "").strip() or not (spec.name_en or "").strip():
        problems["name"] = "names_required"
    elif max(len(spec.name_fa), len(spec.name_en)) > MAX_NAME:
        problems["name"] = "name_too_long"
    if not _int_in(spec.ticket_price, 0, MAX_PRICE):
        problems["ticket_price"] = "ticket_price_range"
    if not _int_in(spec.max_tickets_per_member, 1, MAX_CAP):
        problems["max_tickets_per_member"] = "ticket_cap_range"
    if not _int_in(spec.alternates, 0, MAX_ALTERNATES):
        problems["alternates"] = "alternates_range"
    if spec.closes_at is None or spec.draw_at is None:
        problems["closes_at"] = "draw_times_required"
    elif spec.draw_at < spec.closes_at:
        problems["draw_at"] = "draw_before_close"
    if spec.public_value_source is not None and len(spec.public_value_source) > 300:
        problems["public_value_source"] = "public_value_source_too_long"
    if not spec.prizes:
        problems["prizes"] = "raffle_prizes_required"
    elif len(spec.prizes) > MAX_PRIZE_LINES:
        problems["prizes"] = "raffle_prize_lines"
    elif winners_of(spec.prizes) > MAX_WINNERS:
        problems["prizes"] = "raffle_winners"
    for n, prize in enumerate(spec.prizes or (), start=1):
        problem = _prize_problem(session, prize)
        if problem:
            problems[f"prize_{n}"] = problem
    for name, model, value in (("min_tier_id", Tier, spec.min_tier_id), ("segment_id", Segment, spec.segment_id)):
        if value is not None and session.get(model, value) is None:
            problems[name] = GONE[name]
    return problems


def _int_in(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _prize_problem(session: Session, prize: PrizeSpec) -> str | None:
    if not prize.name_fa.strip() or not prize.name_en.strip():
        return "raffle_prize_name"
    if not _int_in(prize.quantity, 1, MAX_WINNERS):
        return "raffle_prize_quantity"
    if prize.kind not in PRIZE_KINDS:
        return "raffle_prize_kind"
    if prize.kind in ("points", "credit") and not _int_in(prize.amount, 1, MAX_PRIZE_AMOUNT):
        return "raffle_prize_amount"
    if prize.kind == "reward":
        reward = session.get(Reward, prize.reward_id) if prize.reward_id else None
        if reward is None or reward.status == "archived":
            return "raffle_prize_reward"
    return None


def _normalised(spec: RaffleSpec) -> RaffleSpec:
    def text(value):
        return (value or "").strip() or None

    prizes = tuple(replace(p, name_fa=p.name_fa.strip(), name_en=p.name_en.strip(),
                           amount=p.amount if p.kind in ("points", "credit") else 0,
                           reward_id=p.reward_id if p.kind == "reward" else None) for p in spec.prizes)
    return replace(spec, name_fa=(spec.name_fa or "").strip(), name_en=(spec.name_en or "").strip(),
                   description_fa=text(spec.description_fa), description_en=text(spec.description_en),
                   public_value_source=text(spec.public_value_source), prizes=prizes)


def _checked(session: Session, spec: RaffleSpec) -> RaffleSpec:
    spec = _normalised(spec)
    problems = check_spec(session, spec)
    if problems:
        raise RaffleInvalid(problems)
    return spec


def spec_of(session: Session, raffle: Raffle) -> RaffleSpec:
    values = {name: getattr(raffle, name) for name in RaffleSpec.__dataclass_fields__ if name != "prizes"}
    return RaffleSpec(**values, prizes=tuple(
        PrizeSpec(p.name_fa, p.name_en, p.quantity, p.kind, p.amount, p.reward_id)
        for p in prizes_of(session, raffle.id)))


def _snapshot(spec: RaffleSpec, status: str) -> dict:
    data = asdict(spec)
    data["closes_at"], data["draw_at"] = spec.closes_at.isoformat(), spec.draw_at.isoformat()
    data["prizes"] = [asdict(p) for p in spec.prizes]
    data["status"] = status
    return data


def prizes_of(session: Session, raffle_id: int) -> list[RafflePrize]:
    return list(session.scalars(select(RafflePrize).where(RafflePrize.raffle_id == raffle_id)
                                .order_by(RafflePrize.position)))


def _set_fields(session: Session, raffle: Raffle, spec: RaffleSpec, *, prizes: bool) -> None:
    for name in RaffleSpec.__dataclass_fields__:
        if name != "prizes":
            setattr(raffle, name, getattr(spec, name))
    if prizes:
        for old in prizes_of(session, raffle.id):
            session.delete(old)
        session.flush()
        for position, p in enumerate(spec.prizes, start=1):
            session.add(RafflePrize(raffle_id=raffle.id, position=position, **asdict(p)))
    session.flush()


def create_raffle(session: Session, spec: RaffleSpec, *, actor: audit.Actor, now: datetime) -> Raffle:
    spec = _checked(session, spec)
    raffle = Raffle(status="draft", created_by=actor.label[:64], created_at=now, updated_at=now,
                    **{name: getattr(spec, name) for name in RaffleSpec.__dataclass_fields__ if name != "prizes"})
    session.add(raffle)
    session.flush()
    _set_fields(session, raffle, spec, prizes=True)
    audit.record(session, actor, "raffle.create", "raffle", raffle.id, now=now, after=_snapshot(spec, "draft"))
    return raffle


def _locked(session: Session, raffle_id: int, *, read: bool = False) -> Raffle:
    raffle = session.scalar(select(Raffle).where(Raffle.id == raffle_id).with_for_update(read=read)
                            .execution_options(populate_existing=True))
    if raffle is None:
        raise NotFound("Raffle not found.", raffle_id=raffle_id)
    return raffle


def update_raffle(session: Session, raffle_id: int, spec: RaffleSpec, *, actor: audit.Actor,
                  now: datetime) -> Raffle:
    """Change a draft freely; once published only the texts and who may still
    enter can change (RaffleLocked otherwise)."""
    raffle = _locked(session, raffle_id)
    if raffle.status not in ("draft", "open"):
        raise RaffleWrongStatus("Only a draft or open raffle can be edited.", status=raffle.status)
    spec = _checked(session, spec)
    before = spec_of(session, raffle)
    changed = [name for name in RaffleSpec.__dataclass_fields__ if getattr(before, name) != getattr(spec, name)]
    if not changed:
        return raffle
    if raffle.status != "draft" and set(changed) & set(LOCKED_FIELDS):
        raise RaffleLocked(fields=sorted(set(changed) & set(LOCKED_FIELDS)))
    _set_fields(session, raffle, spec, prizes="prizes" in changed)
    raffle.updated_at = now
    old, new = _snapshot(before, raffle.status), _snapshot(spec, raffle.status)
    audit.record(session, actor, "raffle.update", "raffle", raffle.id, now=now,
                 before={k: old[k] for k in changed}, after={k: new[k] for k in changed})
    return raffle


def publish_raffle(session: Session, raffle_id: int, *, actor: audit.Actor, now: datetime,
                   seed: bytes | None = None) -> Raffle:
    """Draft → open: the secret seed is drawn and its sha256 published from now on."""
    raffle = _locked(session, raffle_id)
    if raffle.status != "draft":
        raise RaffleWrongStatus("Only a draft can be published.", status=raffle.status)
    if raffle.closes_at <= now:
        raise RaffleWrongStatus("The close time has passed.", status=raffle.status, reason="closes_at")
    if not prizes_of(session, raffle_id):
        raise RaffleInvalid({"prizes": "raffle_prizes_required"})
    seed = secrets.token_bytes(engine.SEED_BYTES) if seed is None else seed
    raffle.seed, raffle.commitment = seed, engine.commitment(seed)
    raffle.status, raffle.published_at, raffle.updated_at = "open", now, now
    audit.record(session, actor, "raffle.publish", "raffle", raffle.id, now=now,
                 before={"status": "draft"}, after={"status": "open", "commitment": raffle.commitment})
    return raffle


def set_public_value(session: Session, raffle_id: int, value: str, *, actor: audit.Actor,
                     now: datetime) -> Raffle:
    """The public value named in advance, entered once after the close (it must
    not exist before the entries are fixed, or it could be chosen to suit)."""
    raffle = _locked(session, raffle_id)
    value = (value or "").strip()
    if not raffle.public_value_source:
        raise RaffleWrongStatus("This raffle named no public value.", status=raffle.status, reason="none")
    if raffle.status not in ("open", "closed") or now < raffle.closes_at:
        raise RaffleWrongStatus("Enter the public value after the close and before the draw.",
                                status=raffle.status, reason="timing")
    if raffle.public_value is not None:
        raise RaffleWrongStatus("The public value is already entered.", status=raffle.status, reason="entered")
    if not value or len(value) > 300:
        raise RaffleInvalid({"public_value": "public_value_length"})
    raffle.public_value, raffle.updated_at = value, now
    audit.record(session, actor, "raffle.public_value", "raffle", raffle.id, now=now, after={"public_value": value})
    return raffle


def request_draw(session: Session, raffle_id: int, *, actor: audit.Actor, now: datetime) -> Raffle:
    """Staff's "draw now": allowed once the raffle has closed (and its public
    value, if one was named, is entered); the caller enqueues the draw job."""
    raffle = _locked(session, raffle_id)
    if raffle.status not in ("open", "closed") or now < raffle.closes_at:
        raise RaffleWrongStatus("The raffle has not closed yet.", status=raffle.status, reason="timing")
    if raffle.public_value_source and raffle.public_value is None:
        raise RaffleWrongStatus("Enter the public value first.", status=raffle.status, reason="public_value")
    if raffle.draw_requested_at is None:
        raffle.draw_requested_at = now
        audit.record(session, actor, "raffle.draw_now", "raffle", raffle.id, now=now)
    return raffle


def cancel_raffle(session: Session, raffle_id: int, *, actor: audit.Actor, now: datetime,
                  reason: str | None = None) -> int:
    """Cancel a raffle not yet drawn and refund every bought ticket through the
    ledger in one INSERT … SELECT (keys `raffle:{id}:refund:{tickets id}`, so a
    second run refunds nothing more). Coupons used for tickets here become
    usable again (one UPDATE, guarded by what they were used for). Returns the
    number of refunds posted now."""
    raffle = _locked(session, raffle_id)
    if raffle.status == "drawn":
        raise RaffleWrongStatus("A drawn raffle cannot be cancelled.", status=raffle.status)
    before = raffle.status
    if before != "cancelled":
        raffle.status, raffle.cancelled_at, raffle.updated_at = "cancelled", now, now
    prefix = literal(f"raffle:{raffle_id}:refund:", String)
    refunds = ledger.award_points_from(
        session,
        select(RaffleTickets.member_id, RaffleTickets.points_spent, prefix + cast(RaffleTickets.id, String))
        .where(RaffleTickets.raffle_id == raffle_id, RaffleTickets.points_spent > 0),
        kind="refund", now=now, expires_at=None, source_type="raffle", created_by=actor.label[:64],
        description=f"Raffle cancelled: {raffle.name_en}")
    used_here = select(RaffleTickets.coupon_id).where(RaffleTickets.raffle_id == raffle_id,
                                                      RaffleTickets.coupon_id.is_not(None))
    returned = session.execute(
        update(Coupon).where(Coupon.id.in_(used_here), Coupon.status == "used",
                             Coupon.used_ref == f"raffle:{raffle_id}")
        .values(status="issued", used_at=None, used_ref=None).execution_options(synchronize_session=False)
    ).rowcount or 0
    if before != "cancelled":
        audit.record(session, actor, "raffle.cancel", "raffle", raffle.id, now=now, reason=reason,
                     before={"status": before},
                     after={"status": "cancelled", "refunds": len(refunds),
                            "points_refunded": sum(r.points for r in refunds), "coupons_returned": returned})
    return len(refunds)


@dataclass(frozen=True)
class RaffleStats:
    entries: int = 0
    tickets: int = 0


def raffle_stats(session: Session, raffle_ids) -> dict[int, RaffleStats]:
    ids = list(raffle_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(RaffleEntry.raffle_id, func.count(), func.coalesce(func.sum(RaffleEntry.tickets), 0))
        .where(RaffleEntry.raffle_id.in_(ids), RaffleEntry.tickets > 0).group_by(RaffleEntry.raffle_id)).all()
    return {rid: RaffleStats(int(n), int(t)) for rid, n, t in rows}


def winners(session: Session, raffle_id: int) -> list[RaffleWinner]:
    return list(session.scalars(select(RaffleWinner).where(RaffleWinner.raffle_id == raffle_id)
                                .order_by(RaffleWinner.rank)))


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
    # FOR SHARE: buys run side by side, the close (FOR UPDATE) waits for them
    raffle = _locked(session, raffle_id, read=True)
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
    done = session.execute(stmt.values({column: column + quantity, RaffleEntry.tickets: RaffleEntry.tickets + quantity})
                           .returning(RaffleEntry.id).execution_options(synchronize_session=False)).scalar_one_or_none()
    if done is None:
        raise TicketLimitReached(raffle_id=raffle.id, left=0)
    session.expire(entry)
    return added


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
    if not _int_in(quantity, 1, MAX_BUY):
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
    """Each raffle with its prizes, totals and the member's own entry (a fixed
    number of queries whatever the number of raffles)."""
    ids = list(raffle_ids)
    if not ids:
        return []
    raffles = {r.id: r for r in session.scalars(select(Raffle).where(Raffle.id.in_(ids)))}
    items = {rid: MemberRaffle(raffles[rid]) for rid in ids if rid in raffles}
    for prize in session.scalars(select(RafflePrize).where(RafflePrize.raffle_id.in_(ids))
                                 .order_by(RafflePrize.raffle_id, RafflePrize.position)):
        items[prize.raffle_id].prizes.append(prize)
    for rid, stats in raffle_stats(session, ids).items():
        items[rid].total_tickets, items[rid].entries = stats.tickets, stats.entries
    if member_id is not None:
        for entry in session.scalars(select(RaffleEntry).where(RaffleEntry.raffle_id.in_(ids),
                                                                RaffleEntry.member_id == member_id)):
            items[entry.raffle_id].entry = entry
    return list(items.values())


def listing(session: Session, member_id: int, now: datetime, past_limit: int = 10):
    """(open raffles soonest closing first, past raffles newest first)."""
    open_ids = list(session.scalars(select(Raffle.id).where(Raffle.status == "open", Raffle.closes_at > now)
                                    .order_by(Raffle.closes_at, Raffle.id)))
    past_ids = list(session.scalars(
        select(Raffle.id).where((Raffle.status.in_(("closed", "drawn")))
                                | ((Raffle.status == "open") & (Raffle.closes_at <= now)))
        .order_by(Raffle.closes_at.desc(), Raffle.id.desc()).limit(past_limit)))
    return member_raffles(session, member_id, open_ids), member_raffles(session, member_id, past_ids)


def public_raffle(session: Session, raffle_id: int) -> Raffle:
    """A published raffle (drafts do not exist for members)."""
    raffle = session.get(Raffle, raffle_id)
    if raffle is None or raffle.status == "draft":
        raise NotFound("Raffle not found.", raffle_id=raffle_id)
    return raffle


# -- the draw: freeze, draw, award (each its own transaction; see jobs/raffles.py) -------------


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
    raffle = _locked(session, raffle_id)
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
    raffle = _locked(session, raffle_id)
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
    raffle = _locked(session, raffle_id)
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
    inbox.post_message(session, member_id=member_id, kind="raffle_won", key=f"raffle:{raffle.id}:won:{place}",
                       now=now, params={"raffle_id": raffle.id, "name_fa": raffle.name_fa, "name_en": raffle.name_en,
                                        "prize_fa": prize.name_fa, "prize_en": prize.name_en, "kind": prize.kind,
                                        "amount": prize.amount, "coupon": winner.coupon_id is not None})
