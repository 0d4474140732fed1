"""Purchases reported by the till or shop, the points they earn, and refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, Purchase, PurchaseItem, PurchaseRefund
from webapp.services import ledger, messages, referrals, tiers
from webapp.services.errors import Conflict, DomainError, MemberNotActive, NotFound
from webapp.services.offers import challenges, earn_rules, rule_engine
from webapp.services.settings import EarnSettings, load_earn_settings
from webapp.services.surveys import invites as survey_invites
from webapp.services.tiers import rules as tier_rules


class DuplicateTransaction(Conflict):
    """A transaction with this external reference was already recorded."""

    code = "duplicate_transaction"


class InvalidFee(DomainError):
    """The fee must be a whole number of money units, zero or more."""

    code = "invalid_fee"


class RefundTooLarge(DomainError):
    """The refund is larger than what is left of the purchase."""

    code = "refund_exceeds_purchase"


@dataclass(frozen=True)
class ItemLine:
    sku: str | None
    category: str | None
    qty: int
    price: int


def record_purchase(
    session: Session,
    *,
    member_id: int,
    amount: int,
    currency: str,
    occurred_at: datetime,
    now: datetime,
    items: list[ItemLine] = (),
    external_ref: str | None = None,
    channel: str | None = None,
    store: str | None = None,
    api_key_id: int | None = None,
    created_by: str = "system",
    settings: EarnSettings | None = None,
    fee: int = 0,
) -> tuple[Purchase, int]:
    """Record the purchase and award its points (the base earn rule × the earn
    multiplier of the member's tier), then upgrade the member at once if the
    purchase lifts them to a higher tier. Returns it and the new balance."""
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise InvalidFee()
    member, referred = _lock_buyer(session, member_id)
    settings = settings or load_earn_settings(session)
    program = tiers.load_program(session)
    level = tiers.member_level(session, member, program) if program else None
    points = settings.points_for(amount)
    multiplied = tier_rules.apply_multiplier(points, level.earn_multiplier_bp) if level else points
    perks = challenges.earn_perks(session, member_id, now)  # they multiply the base rate too
    multiplied = rule_engine.multiply(multiplied, [p.multiplier_bp for p in perks])
    # designer rules on top of the base rate (budgets taken now, under the lock);
    # points_earned holds them all so refunds take back their share too
    grants = earn_rules.plan_purchase_rules(
        session, member=member, amount=amount, occurred_at=occurred_at, items=items, channel=channel,
        store=store, level=level, perks=perks, now=now)
    purchase = _insert_purchase(
        session, items, member_id=member_id, external_ref=external_ref, amount=amount, currency=currency,
        occurred_at=occurred_at, channel=channel, store=store, api_key_id=api_key_id,
        points_earned=multiplied + sum(g.points for g in grants), fee=fee, refunded_amount=0,
        points_reversed=0, created_at=now,
    )
    set_committed_value(purchase, "member", member)
    balance, metric = _post_points(session, purchase, member, grants, base=multiplied,
                                   note=_multiplier_note(level) if level and multiplied != points else None,
                                   program=program, settings=settings, now=now, created_by=created_by)
    tiers.on_qualifying_event(session, member_id, now=now, program=program, metric_written=metric)
    rewarded = challenges.on_purchase(session, purchase, now=now)
    if referred and referrals.on_purchase(session, purchase, now=now):
        rewarded = True  # a welcome gift may have come with it
    if rewarded:
        session.expire(member, ["points_balance", "credit_balance"])
        balance = member.points_balance
    else:
        # what the response shows, without reading back what was just written
        set_committed_value(member, "points_balance", balance)
    survey_invites.on_purchase(session, member_id=member_id, purchase_id=purchase.id, now=now)
    return purchase, _send_receipt(session, purchase, balance, now=now)


def _post_points(session: Session, purchase: Purchase, member: Member, grants, *, base: int,
                 note: str | None, program, settings: EarnSettings, now: datetime,
                 created_by: str) -> tuple[int, int | None]:
    """Every entry of the purchase (the base rate, each rule's grant), the
    balance and the tier metric: three statements whatever the number of rules.
    Returns the balance and, with a tier program, the metric written."""
    event_key = f"purchase:{purchase.id}"
    earnings = [ledger.Earning(g.points, g.key(event_key), ("earn_rule", g.rule.id), g.description)
                for g in grants]
    if base:
        earnings.insert(0, ledger.Earning(base, f"{event_key}:earn", ("purchase", purchase.id), note))
    if not earnings and not program:
        return member.points_balance, None
    expires = now + timedelta(days=settings.points_expiry_days) if settings.points_expiry_days else None
    metric = {Member.tier_metric: tiers.qualifying_metric_of(program, member.id, now)} if program else None
    entry_ids, written = ledger.award_points_together(
        session, member.id, earnings, now=now, expires_at=expires, created_by=created_by,
        member_values=metric, member_columns=(Member.tier_metric,) if program else ())
    earn_rules.record_awards(session, grants, member_id=member.id, event_key=event_key,
                             entry_ids=entry_ids, now=now)
    session.flush()
    return written[0], (written[1] if program else None)


def _send_receipt(session: Session, purchase: Purchase, balance: int, *, now: datetime) -> int:
    """The member's receipt (`purchase_receipt`), written with the purchase; returns the balance."""
    messages.notify(session, member_id=purchase.member_id, kind="purchase_receipt", now=now,
                    key=f"purchase:{purchase.id}:receipt",
                    params={"purchase_id": purchase.id, "amount": purchase.amount,
                            "points": purchase.points_earned, "balance": balance, "path": "/me/activity"})
    return balance


def _lock_buyer(session: Session, member_id: int) -> tuple[Member, bool]:
    """The member's row lock first (see `ledger.lock_member`): earn-rule caps read
    after it, and taking it before the purchase INSERT's foreign-key share lock
    avoids lock upgrades that deadlock two purchases of one member. The same
    statement says whether a referral waits for this member's purchase, so the
    many members without one cost no query for it."""
    row = session.execute(
        select(Member, referrals.open_referral_of(Member.id)).where(Member.id == member_id)
        .with_for_update(key_share=True, of=Member).execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("Member not found.", member_id=member_id)
    member, referred = row
    if not member.is_active:
        raise MemberNotActive()
    return member, bool(referred)


def _insert_purchase(session: Session, items, **values) -> Purchase:
    """Insert-or-nothing on the external reference: a duplicate (recorded before,
    or by a concurrent request that commits first) inserts no row, in one
    statement with no savepoint."""
    purchase = session.scalars(
        insert_ignoring_duplicates(session, Purchase).values(values)
        .on_conflict_do_nothing(index_elements=["external_ref"]).returning(Purchase)
        .options(lazyload(Purchase.items))  # a new purchase has none yet: no selectin query
    ).one_or_none()
    if purchase is None:
        raise DuplicateTransaction(external_ref=values["external_ref"])
    # the items are the ones written here: the response needs no query for them
    set_committed_value(purchase, "items", [])
    purchase.items.extend(
        PurchaseItem(sku=i.sku, category=i.category, qty=i.qty, price=i.price) for i in items)
    return purchase


def _multiplier_note(level) -> str:
    """"× Gold 1.5": which tier multiplied the points (for staff and the activity list)."""
    factor = f"{level.earn_multiplier_bp // tier_rules.BP}"
    rest = level.earn_multiplier_bp % tier_rules.BP
    if rest:
        factor += "." + f"{rest:04d}".rstrip("0")
    return f"× {level.name_en} {factor}"


def refund_purchase(
    session: Session,
    *,
    purchase_id: int,
    now: datetime,
    amount: int | None = None,
    external_ref: str | None = None,
    reason: str | None = None,
    created_by: str = "system",
) -> PurchaseRefund:
    """Refund all or part of a purchase and take back the points it earned, in
    proportion. Points already spent cannot be taken back below zero: that part
    is recorded as the refund's `points_shortfall`."""
    purchase = session.scalar(
        select(Purchase).where(Purchase.id == purchase_id).with_for_update()
    )
    if purchase is None:
        raise NotFound("Transaction not found.", transaction_id=purchase_id)
    left = purchase.amount - purchase.refunded_amount
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise RefundTooLarge(refundable=left)
    if external_ref and session.scalar(
        select(PurchaseRefund.id).where(
            PurchaseRefund.purchase_id == purchase_id, PurchaseRefund.external_ref == external_ref
        )
    ):
        raise Conflict("This refund was already recorded.", external_ref=external_ref)

    # int(): PostgreSQL sums BIGINT as NUMERIC, which arrives as a Decimal
    accounted = int(session.scalar(
        select(func.coalesce(func.sum(PurchaseRefund.points_reversed + PurchaseRefund.points_shortfall), 0))
        .where(PurchaseRefund.purchase_id == purchase_id)
    ))
    refunded_after = purchase.refunded_amount + amount
    # floor of the proportional share, computed on the running total so partial
    # refunds add up exactly to the points earned when everything is refunded
    owed = purchase.points_earned * refunded_after // purchase.amount - accounted

    refund = PurchaseRefund(
        purchase_id=purchase_id, amount=amount, external_ref=external_ref,
        reason=(reason or None) and reason[:300], created_at=now,
    )
    session.add(refund)
    session.flush()
    posting, shortfall = ledger.debit_up_to(
        session, member_id=purchase.member_id, currency="points", amount=owed,
        kind="reversal", key=f"refund:{refund.id}:reversal", now=now,
        source=("purchase_refund", refund.id), created_by=created_by,
        description=f"Refund of transaction {purchase.id}",
    )
    taken = -posting.entry.amount if posting else 0
    refund.points_reversed = taken
    refund.points_shortfall = shortfall
    purchase.refunded_amount = refunded_after
    purchase.points_reversed += taken
    session.flush()
    challenges.on_refund(session, purchase, now=now)  # progress not yet completed goes down
    referrals.on_refund(session, purchase, now=now)
    return refund
