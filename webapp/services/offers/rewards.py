"""The rewards catalog and coupons.

Staff design catalog items; members redeem them for points and get a coupon
whose unguessable code the till verifies and marks used through the API.

Redeeming is one transaction in a fixed order: lock the member (so one
member's requests queue up: per-member limit and balance are then race-free),
a guarded stock UPDATE on the reward (which also queues concurrent redemptions
of the same item), the coupon row, the partner code claim (a guarded UPDATE),
then the points through the ledger. Any refusal raises and the caller's
rollback (or our savepoint) undoes all of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import REWARD_KINDS, REWARD_STATUSES, Coupon, Member, Reward, Tier
from webapp.services import config_cache, ledger, messages, tiers
from webapp.services.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    MemberNotActive,
    NotFound,
)
from webapp.services.members import audit, facts
from webapp.services.offers import campaigns, coupons, segments
from webapp.services.offers.reward_errors import (
    CouponNotCancellable,
    CouponNotUsable,
    OutOfStock,
    RewardInvalid,
    RewardLimitReached,
    RewardLocked,
    RewardUnavailable,
)
from webapp.services.offers.voucher_codes import (  # noqa: F401  (callers' names: rewards.add_voucher_codes)
    add_voucher_codes,
    claim_partner_code,
    free_codes,
    parse_voucher_codes,
)
from webapp.services.surveys import invites as survey_invites

MAX_COST = 100_000_000
PERCENT_BP = 10_000  # 100 % in basis points

# -- staff: the catalog --------------------------------------------------------


@dataclass(frozen=True)
class RewardData:
    kind: str
    name_fa: str
    name_en: str
    cost_points: int
    description_fa: str | None = None
    description_en: str | None = None
    value: int = 0
    product_sku: str | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    min_tier_id: int | None = None
    segment_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    coupon_valid_days: int | None = None
    image: str | None = None
    status: str = "draft"


FIELDS = tuple(RewardData.__dataclass_fields__)


def check_reward(data: RewardData) -> dict[str, str]:
    """Problems as field -> code (admin forms show the words for the code)."""
    problems: dict[str, str] = {}

    if data.kind not in REWARD_KINDS:
        problems["kind"] = "unknown_kind"
    if data.status not in REWARD_STATUSES:
        problems["status"] = "unknown_status"
    if not data.name_fa.strip() or not data.name_en.strip():
        problems["name_en"] = "names_required"
    if not 0 <= data.cost_points <= MAX_COST:
        problems["cost_points"] = "cost_range"
    if data.kind == "coupon_percent" and not 0 < data.value <= PERCENT_BP:
        problems["value"] = "percent_range"
    elif data.kind in ("coupon_amount", "credit", "raffle_tickets") and data.value <= 0:
        problems["value"] = "value_positive"
    if data.kind == "free_product" and not (data.product_sku or "").strip():
        problems["product_sku"] = "sku_required"
    if data.stock is not None and data.stock < 0:
        problems["stock"] = "stock_negative"
    if data.per_member_limit is not None and data.per_member_limit < 1:
        problems["per_member_limit"] = "member_limit_range"
    if data.coupon_valid_days is not None and data.coupon_valid_days < 1:
        problems["coupon_valid_days"] = "valid_days_range"
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        problems["ends_at"] = "ends_before_start"
    return problems


def _snapshot(reward: Reward) -> dict:
    out = {}
    for name in FIELDS:
        value = getattr(reward, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def save_reward(
    session: Session, data: RewardData, *, actor: audit.Actor, now: datetime, reward_id: int | None = None,
) -> Reward:
    """Create a reward, or change one. A partner voucher's stock is its count of
    free codes, so the form cannot set it; a reward's kind is fixed once coupons exist."""
    problems = check_reward(data)
    if problems:
        raise RewardInvalid(problems)
    if reward_id is None:
        reward = Reward(created_at=now, issued_count=0)
        before = None
        if data.kind == "partner_voucher":
            data = replace(data, stock=0)
    else:
        reward = session.scalar(select(Reward).where(Reward.id == reward_id).with_for_update())
        if reward is None:
            raise NotFound("Reward not found.", reward_id=reward_id)
        before = _snapshot(reward)
        if data.kind != reward.kind and _has_coupons(session, reward.id):
            raise RewardInvalid({"kind": "kind_locked"})
        if data.kind == "partner_voucher":
            data = replace(data, stock=free_codes(session, reward.id))
    for name in FIELDS:
        setattr(reward, name, getattr(data, name))
    reward.updated_at = now
    session.add(reward)
    session.flush()
    audit.record(session, actor, "reward.create" if before is None else "reward.update", "reward",
                 reward.id, now=now, before=before, after=_snapshot(reward))
    return reward


def set_status(session: Session, reward_id: int, status: str, *, actor: audit.Actor, now: datetime) -> Reward:
    """Publish (active), take back to draft, or archive. Issued coupons stay valid."""
    if status not in REWARD_STATUSES:
        raise RewardInvalid({"status": "unknown_status"})
    reward = session.scalar(select(Reward).where(Reward.id == reward_id).with_for_update())
    if reward is None:
        raise NotFound("Reward not found.", reward_id=reward_id)
    if reward.status != status:
        before = reward.status
        reward.status, reward.updated_at = status, now
        audit.record(session, actor, f"reward.{status}", "reward", reward.id, now=now,
                     before={"status": before}, after={"status": status})
    return reward


def _has_coupons(session: Session, reward_id: int) -> bool:
    return session.scalar(select(Coupon.id).where(Coupon.reward_id == reward_id).limit(1)) is not None


# -- members: what they can get ------------------------------------------------------


@dataclass(frozen=True)
class CatalogItem:
    reward: Reward
    cost: int  # what this member pays (a campaign's price when there is one)
    list_cost: int
    campaign_id: int | None
    group: str  # "afford", "away" or "locked"
    points_needed: int = 0
    percent: int = 0  # of the cost the member has, for the progress bar
    unlock_level: object | None = None  # tier_rules.Level that unlocks a locked item
    blocked: str | None = None  # "out_of_stock" or "limit_reached": shown, not redeemable

    @property
    def is_deal(self) -> bool:
        return self.campaign_id is not None and self.cost < self.list_cost

    @property
    def redeemable(self) -> bool:
        return self.group == "afford" and self.blocked is None


@dataclass(frozen=True)
class Catalog:
    balance: int
    afford: list[CatalogItem] = field(default_factory=list)
    away: list[CatalogItem] = field(default_factory=list)
    locked: list[CatalogItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.afford or self.away or self.locked)


def held_counts(session: Session, member_id: int, reward_ids=None) -> dict[int, int]:
    """reward_id → coupons the member holds of it (cancelled ones do not count)."""
    stmt = held_fact(member_id)
    if reward_ids is not None:
        stmt = stmt.where(Coupon.reward_id.in_(list(reward_ids)))
    return held_of(facts.fetch(session, {"held": stmt})["held"])


def held_fact(member_id: int):
    """The coupons the member holds, per reward (`facts`)."""
    return (select(*facts.fact("held", ref=Coupon.reward_id, n1=func.count()))
            .where(Coupon.member_id == member_id, Coupon.status != "cancelled").group_by(Coupon.reward_id))


def held_of(rows) -> dict[int, int]:
    return {int(r.ref): int(r.n1) for r in rows}


def _active_rewards(session: Session) -> tuple[Reward, ...]:
    """Every active reward, detached for the configuration cache: its stock is
    read with it, and a redemption that empties or refills a stock makes a new
    version (`_take_stock`)."""
    rows = tuple(session.scalars(select(Reward).where(Reward.status == "active")
                                 .order_by(Reward.cost_points, Reward.id)))
    for reward in rows:
        session.expunge(reward)
    return rows


def offered_rewards(session: Session, now: datetime) -> list[Reward]:
    """The rewards on offer now, cheapest first (shared, read-only objects)."""
    return [r for r in config_cache.cached(session, "rewards", _active_rewards)
            if (r.starts_at is None or r.starts_at <= now) and (r.ends_at is None or r.ends_at > now)]


def standing_facts(session: Session, member: Member, now: datetime) -> dict[str, object]:
    """The `facts` the catalog needs of the member: coupons held, personal offers,
    and the segments of the segment-only rewards they are in."""
    wanted = {r.segment_id for r in offered_rewards(session, now) if r.segment_id is not None}
    return {"held": held_fact(member.id), "offer": campaigns.offers_fact(member.id, now),
            "reward_segment": segments.member_facts(session, "reward_segment", wanted, member.id, now)}


def member_catalog(session: Session, member: Member, now: datetime, found: dict | None = None) -> Catalog:
    """The member's view of the catalog, grouped: the rewards and the tier program
    from the configuration cache, the member's standing (`standing_facts`, or
    `found` when the page fetched them with its other facts) in one query."""
    rewards = offered_rewards(session, now)
    catalog = Catalog(balance=member.points_balance)
    if not rewards:
        return catalog
    found = found if found is not None else facts.fetch(session, standing_facts(session, member, now))
    balance = catalog.balance
    program = tiers.load_program(session)
    level = tiers.member_level(session, member, program) if program else None
    rank = level.rank if level else 0
    levels_by_tier = {lv.id: lv for lv in program.levels} if program else {}
    in_segments = {int(r.ref) for r in found["reward_segment"]}
    held = held_of(found["held"])
    offers = campaigns.offers_of(found["offer"])
    for reward in rewards:
        if reward.segment_id is not None and reward.segment_id not in in_segments:
            continue  # not for this member: not shown at all
        offer = offers.get(reward.id)
        cost = offer.cost_points if offer else reward.cost_points
        common = {"reward": reward, "cost": cost, "list_cost": reward.cost_points,
                  "campaign_id": offer.campaign_id if offer else None}
        unlock = levels_by_tier.get(reward.min_tier_id)
        if unlock is not None and unlock.rank > rank:
            catalog.locked.append(CatalogItem(**common, group="locked", unlock_level=unlock))
            continue
        blocked = None
        if reward.stock is not None and reward.stock <= 0:
            blocked = "out_of_stock"
        elif reward.per_member_limit is not None and held.get(reward.id, 0) >= reward.per_member_limit:
            blocked = "limit_reached"
        if balance >= cost:
            catalog.afford.append(CatalogItem(**common, group="afford", percent=100, blocked=blocked))
        else:
            catalog.away.append(CatalogItem(**common, group="away", points_needed=cost - balance,
                                            percent=balance * 100 // cost, blocked=blocked))
    catalog.afford.sort(key=lambda i: (i.cost, i.reward.id))
    catalog.away.sort(key=lambda i: (i.points_needed, i.reward.id))
    catalog.locked.sort(key=lambda i: (i.unlock_level.rank, i.cost, i.reward.id))
    return catalog


@dataclass(frozen=True)
class Quote:
    reward: Reward
    cost: int
    campaign_id: int | None
    balance: int

    @property
    def balance_after(self) -> int:
        return self.balance - self.cost


def quote(session: Session, member_id: int, reward_id: int, now: datetime) -> Quote:
    """What redeeming would cost this member now, or the domain error that
    redeeming would raise (read-only: the confirm step checks again under locks)."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("Member not found.", member_id=member_id)
    reward = session.get(Reward, reward_id)
    cost, campaign_id = _check_redeemable(session, member, reward, now, charge=True)
    balance = ledger.balance_of(session, member_id, "points")
    if balance < cost:
        raise InsufficientPoints(needed=cost, balance=balance)
    return Quote(reward=reward, cost=cost, campaign_id=campaign_id, balance=balance)


def _check_redeemable(session, member: Member, reward: Reward | None, now: datetime, *,
                      charge: bool) -> tuple[int, int | None]:
    """(cost, campaign id) if the member may have the reward now; else raises."""
    if member.status != "active":
        raise MemberNotActive(member_id=member.id)
    if reward is None or not _available(reward, now):
        raise RewardUnavailable(reward_id=getattr(reward, "id", None))
    if reward.min_tier_id is not None:
        needed = session.scalar(select(Tier.rank).where(Tier.id == reward.min_tier_id))
        level = tiers.member_level(session, member)
        if needed is not None and (level.rank if level else 0) < needed:
            raise RewardLocked(reward_id=reward.id)
    if reward.segment_id is not None and not segments.contains(session, reward.segment_id, member.id, now):
        raise RewardLocked(reward_id=reward.id)
    if reward.stock is not None and reward.stock <= 0:
        raise OutOfStock(reward_id=reward.id)
    if not charge:
        return 0, None
    offer = campaigns.member_offers(session, member.id, now).get(reward.id)
    return (offer.cost_points, offer.campaign_id) if offer else (reward.cost_points, None)


def _available(reward: Reward, now: datetime) -> bool:
    return (reward.status == "active" and (reward.starts_at is None or reward.starts_at <= now)
            and (reward.ends_at is None or reward.ends_at > now))


# -- redeeming -------------------------------------------------------------------------


@dataclass(frozen=True)
class Redemption:
    coupon: Coupon
    replayed: bool  # the request key had already issued this coupon


def redeem_reward(
    session: Session, *, member_id: int, reward_id: int, request_key: str, now: datetime,
) -> Redemption:
    """Spend the member's points on the reward and issue a coupon, once per
    `request_key` (the member's one-time form token); the member is told the
    coupon code (`reward_redeemed`)."""
    redemption = _issue(session, member_id=member_id, reward_id=reward_id, request_key=f"redeem:{request_key}",
                        now=now, charge=True, created_by=f"member:{member_id}")
    coupon = redemption.coupon
    reward = session.get(Reward, coupon.reward_id)
    messages.notify(session, member_id=member_id, kind="reward_redeemed", key=f"coupon:{coupon.id}:redeemed",
                    now=now, params={"coupon_id": coupon.id, "reward_id": reward.id, "reward_fa": reward.name_fa,
                                     "reward_en": reward.name_en, "coupon": coupon.partner_code or coupon.code,
                                     "points": coupon.points_spent or 0, "path": f"/me/coupons/{coupon.id}"})
    if not redemption.replayed:
        survey_invites.on_redemption(session, member_id=member_id, coupon_id=redemption.coupon.id, now=now)
    return redemption


def grant_reward(
    session: Session, *, member_id: int, reward_id: int, key: str, now: datetime,
    created_by: str = "system",
):
    """Give the member a coupon for the reward without charging points (challenge
    completion, staff gift). Obeys stock; `key` makes it happen once. Returns the Coupon.
    Tier, segment and per-member limits are the granter's business, not checked here."""
    return _issue(session, member_id=member_id, reward_id=reward_id, request_key=f"grant:{key}",
                  now=now, charge=False, created_by=created_by).coupon


def _issue(session: Session, *, member_id, reward_id, request_key, now, charge, created_by) -> Redemption:
    if len(request_key) > 120:  # the column's size; long keys keep their uniqueness through a hash
        request_key = request_key[:50] + ":" + hashlib.sha256(request_key.encode()).hexdigest()
    member = ledger.lock_member(session, member_id)  # this member's redemptions queue here
    existing = _coupon_by_request(session, request_key)
    if existing is not None:
        return _replayed(existing, member_id, reward_id)
    reward = session.get(Reward, reward_id, populate_existing=True)
    if charge:
        cost, campaign_id = _check_redeemable(session, member, reward, now, charge=True)
    else:
        if member.status != "active":
            raise MemberNotActive(member_id=member_id)
        if reward is None or reward.status == "archived":
            raise RewardUnavailable(reward_id=reward_id)
        cost, campaign_id = 0, None
    try:
        with session.begin_nested():
            if charge and reward.per_member_limit is not None:
                held = held_counts(session, member_id, [reward_id]).get(reward_id, 0)
                if held >= reward.per_member_limit:
                    raise RewardLimitReached(reward_id=reward_id, limit=reward.per_member_limit)
            _take_stock(session, reward_id)
            coupon = Coupon(
                code=coupons.new_code(), member_id=member_id, reward_id=reward_id, kind=reward.kind,
                value=reward.value, points_spent=cost, campaign_id=campaign_id, status="issued",
                request_key=request_key, issued_at=now,
                expires_at=now + timedelta(days=reward.coupon_valid_days) if reward.coupon_valid_days else None,
            )
            session.add(coupon)
            session.flush()
            if reward.kind == "partner_voucher":
                coupon.partner_code = claim_partner_code(session, reward_id, coupon.id)
            if cost:
                ledger.spend_points(session, member_id, cost, key=f"coupon:{coupon.id}:spend", now=now,
                                    source=("coupon", coupon.id), created_by=created_by,
                                    description=f"Reward: {reward.name_en}")
            if reward.kind == "credit":
                # store credit is the reward itself: granted now, the coupon is its receipt
                ledger.grant_credit(session, member_id, reward.value, key=f"coupon:{coupon.id}:credit",
                                    now=now, source=("coupon", coupon.id), created_by=created_by,
                                    description=f"Reward: {reward.name_en}")
                coupon.status, coupon.used_at = "used", now
            session.flush()
    except IntegrityError:
        # a twin with the same request key won (the member lock makes this rare)
        existing = _coupon_by_request(session, request_key)
        if existing is None:
            raise
        return _replayed(existing, member_id, reward_id)
    return Redemption(coupon=coupon, replayed=False)


def _coupon_by_request(session: Session, request_key: str) -> Coupon | None:
    return session.scalar(select(Coupon).where(Coupon.request_key == request_key))


def _replayed(coupon: Coupon, member_id: int, reward_id: int) -> Redemption:
    if (coupon.member_id, coupon.reward_id) != (member_id, reward_id):
        raise IdempotencyConflict(key=coupon.request_key)
    return Redemption(coupon=coupon, replayed=True)


def _take_stock(session: Session, reward_id: int) -> None:
    """The guard: stock never goes below zero, however many redeem at once
    (a concurrent redemption waits on the row lock, then re-checks the WHERE)."""
    taken = session.execute(
        update(Reward).where(Reward.id == reward_id, or_(Reward.stock.is_(None), Reward.stock > 0))
        .values(stock=Reward.stock - 1, issued_count=Reward.issued_count + 1)
        .returning(Reward.id, Reward.stock).execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        raise OutOfStock(reward_id=reward_id)
    if taken.stock == 0:
        config_cache.changed(session)  # the catalog shows it sold out from now on
    _expire_loaded(session, reward_id)


def _expire_loaded(session: Session, reward_id: int) -> None:
    # the UPDATEs bypass the ORM: a loaded reward must read them again
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Reward) and obj.id == reward_id:
            session.expire(obj, ["stock", "issued_count"])


# -- coupons at the till and in admin ------------------------------------------------------


def find_coupon(session: Session, code: str, *, lock: bool = False) -> Coupon:
    normal = coupons.normalise(code)
    if normal is None:
        raise NotFound("No coupon has this code.")
    stmt = select(Coupon).where(Coupon.code == normal)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    coupon = session.scalar(stmt)
    if coupon is None:
        raise NotFound("No coupon has this code.")
    return coupon


def effective_status(coupon: Coupon, now: datetime) -> str:
    """An issued coupon past its date is expired even before the nightly job says so."""
    if coupon.status == "issued" and coupon.expires_at is not None and coupon.expires_at <= now:
        return "expired"
    return coupon.status


def use_coupon(
    session: Session, code: str, *, now: datetime, reference: str | None = None,
    api_key_id: int | None = None,
) -> Coupon:
    """Mark the coupon used at the till. Locked, so two tills cannot both use it."""
    coupon = find_coupon(session, code, lock=True)
    if effective_status(coupon, now) == "expired" and coupon.status == "issued":
        coupon.status = "expired"
        session.flush()  # the caller rolls back on the error; the nightly job records it anyway
    if coupon.status != "issued":
        raise CouponNotUsable(coupon)
    coupon.status, coupon.used_at, coupon.used_ref, coupon.used_api_key_id = "used", now, reference, api_key_id
    session.flush()
    return coupon


def cancel_coupon(
    session: Session, coupon_id: int, *, actor: audit.Actor, now: datetime, reason: str | None = None,
) -> Coupon:
    """Staff cancel an issued coupon: the points come back (ledger key
    `coupon:{id}:cancel`) and so does the stock (a partner code once shown to
    the member is not handed out again)."""
    coupon = session.scalar(select(Coupon).where(Coupon.id == coupon_id).with_for_update()
                            .execution_options(populate_existing=True))
    if coupon is None:
        raise NotFound("Coupon not found.", coupon_id=coupon_id)
    if coupon.status != "issued":
        raise CouponNotCancellable(status=coupon.status)
    coupon.status, coupon.cancelled_at, coupon.cancelled_by = "cancelled", now, actor.label[:64]
    if coupon.points_spent:
        ledger.post(session, member_id=coupon.member_id, currency="points", amount=coupon.points_spent,
                    kind="refund", key=f"coupon:{coupon.id}:cancel", now=now, source=("coupon", coupon.id),
                    created_by=actor.label, description="Coupon cancelled by the club")
    if coupon.kind != "partner_voucher":
        stock = session.execute(update(Reward).where(Reward.id == coupon.reward_id)
                                .values(stock=Reward.stock + 1, issued_count=Reward.issued_count - 1)
                                .returning(Reward.stock).execution_options(synchronize_session=False)).scalar()
        if stock == 1:
            config_cache.changed(session)  # back in stock
    else:
        session.execute(update(Reward).where(Reward.id == coupon.reward_id)
                        .values(issued_count=Reward.issued_count - 1)
                        .execution_options(synchronize_session=False))
    _expire_loaded(session, coupon.reward_id)
    audit.record(session, actor, "coupon.cancel", "coupon", coupon.id, now=now,
                 before={"status": "issued"},
                 after={"status": "cancelled", "points_refunded": coupon.points_spent,
                        "member_id": coupon.member_id}, reason=reason)
    session.flush()
    return coupon


def expire_coupons(session: Session, now: datetime) -> int:
    """Mark issued coupons past their date expired (set-based; a second run finds none)."""
    result = session.execute(
        update(Coupon).where(Coupon.status == "issued", Coupon.expires_at.is_not(None), Coupon.expires_at <= now)
        .values(status="expired").execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def member_coupons(session: Session, member_id: int, now: datetime, limit: int = 200):
    """The member's coupons newest first, with their rewards (one query)."""
    rows = session.execute(
        select(Coupon, Reward).join(Reward, Reward.id == Coupon.reward_id)
        .where(Coupon.member_id == member_id).order_by(Coupon.issued_at.desc(), Coupon.id.desc()).limit(limit)
    ).all()
    return [(c, r, effective_status(c, now)) for c, r in rows]


def member_coupon(session: Session, member_id: int, coupon_id: int):
    """One of the member's own coupons with its reward; NotFound for anyone else's."""
    row = session.execute(
        select(Coupon, Reward).join(Reward, Reward.id == Coupon.reward_id)
        .where(Coupon.id == coupon_id, Coupon.member_id == member_id)
    ).first()
    if row is None:
        raise NotFound("Coupon not found.")
    return row
