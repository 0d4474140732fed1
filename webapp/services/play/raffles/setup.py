"""Raffles, the staff side: define a raffle (draft), publish it (the seed is
drawn and its sha256 shown), enter the public value, ask for the draw, cancel
(refunding every bought ticket), and the numbers staff see."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from sqlalchemy import String, case, cast, func, literal, select, update
from sqlalchemy.orm import Session

import games.raffle as engine
from webapp.models import (
    PRIZE_KINDS,
    Coupon,
    Raffle,
    RaffleEntry,
    RafflePrize,
    RaffleTickets,
    RaffleWinner,
    Reward,
    Segment,
    Tier,
)
from webapp.services import ledger
from webapp.services.errors import (
    Conflict,
    NotFound,
    ProblemsInvalid,
)
from webapp.services.members import audit

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
    if not int_in(spec.ticket_price, 0, MAX_PRICE):
        problems["ticket_price"] = "ticket_price_range"
    if not int_in(spec.max_tickets_per_member, 1, MAX_CAP):
        problems["max_tickets_per_member"] = "ticket_cap_range"
    if not int_in(spec.alternates, 0, MAX_ALTERNATES):
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


def int_in(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _prize_problem(session: Session, prize: PrizeSpec) -> str | None:
    if not prize.name_fa.strip() or not prize.name_en.strip():
        return "raffle_prize_name"
    if not int_in(prize.quantity, 1, MAX_WINNERS):
        return "raffle_prize_quantity"
    if prize.kind not in PRIZE_KINDS:
        return "raffle_prize_kind"
    if prize.kind in ("points", "credit") and not int_in(prize.amount, 1, MAX_PRIZE_AMOUNT):
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


def locked(session: Session, raffle_id: int, *, read: bool = False) -> Raffle:
    """The raffle row, locked FOR UPDATE, or with `read` FOR KEY SHARE: buys run
    side by side and each still moves the counters with an UPDATE (FOR SHARE
    would deadlock two buyers upgrading their locks), while everything that takes
    FOR UPDATE (staff edits, the close, the draw, cancelling) waits for them."""
    raffle = session.scalar(select(Raffle).where(Raffle.id == raffle_id)
                            .with_for_update(read=read, key_share=read)
                            .execution_options(populate_existing=True))
    if raffle is None:
        raise NotFound("Raffle not found.", raffle_id=raffle_id)
    return raffle


def update_raffle(session: Session, raffle_id: int, spec: RaffleSpec, *, actor: audit.Actor,
                  now: datetime) -> Raffle:
    """Change a draft freely; once published only the texts and who may still
    enter can change (RaffleLocked otherwise)."""
    raffle = locked(session, raffle_id)
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
    raffle = locked(session, raffle_id)
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
    raffle = locked(session, raffle_id)
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
    raffle = locked(session, raffle_id)
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
    raffle = locked(session, raffle_id)
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
    """Entries (with tickets) and tickets of each raffle: its counters."""
    ids = list(raffle_ids)
    if not ids:
        return {}
    rows = session.execute(select(Raffle.id, Raffle.entries_count, Raffle.tickets_total)
                           .where(Raffle.id.in_(ids))).all()
    return {rid: RaffleStats(int(n), int(t)) for rid, n, t in rows}


@dataclass(frozen=True)
class CounterMismatch:
    raffle_id: int
    entries_count: int
    tickets_total: int
    entries: int
    tickets: int


def counter_mismatches(session: Session) -> list[CounterMismatch]:
    """Raffles whose counters differ from their entries (`vafa doctor`)."""
    sums = (select(RaffleEntry.raffle_id,
                   func.count(case((RaffleEntry.tickets > 0, 1))).label("entries"),
                   func.coalesce(func.sum(RaffleEntry.tickets), 0).label("tickets"))
            .group_by(RaffleEntry.raffle_id).subquery())
    entries, tickets = func.coalesce(sums.c.entries, 0), func.coalesce(sums.c.tickets, 0)
    rows = session.execute(
        select(Raffle.id, Raffle.entries_count, Raffle.tickets_total, entries, tickets)
        .outerjoin(sums, sums.c.raffle_id == Raffle.id)
        .where((Raffle.entries_count != entries) | (Raffle.tickets_total != tickets))
        .order_by(Raffle.id)).all()
    return [CounterMismatch(*(int(v) for v in row)) for row in rows]


def winners(session: Session, raffle_id: int) -> list[RaffleWinner]:
    return list(session.scalars(select(RaffleWinner).where(RaffleWinner.raffle_id == raffle_id)
                                .order_by(RaffleWinner.rank)))


