"""The integration API's endpoints: validate → one service call → answer.
POST views run inside `idempotent`, which owns the commit."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select

from webapp.api import bp, validation
from webapp.api.idempotency import idempotent
from webapp.api.keys import current_api_key_id
from webapp.api.openapi import document
from webapp.api.responses import (
    ApiError,
    balances,
    credit_refund_json,
    credit_spend_json,
    json_response,
    member_json,
    refund_json,
    renamed,
    transaction_json,
)
from webapp.club import current_club
from webapp.extensions import db
from webapp.models import CreditSpend, Member, Purchase, utcnow
from webapp.services import referrals
from webapp.services.errors import NotFound
from webapp.services.ledger import credit, purchases
from webapp.services.members import accounts


def _actor() -> str:
    return f"api:{current_api_key_id()}"


@bp.get("/openapi.json")
def openapi():
    return json_response(document(current_club().currency))


@bp.post("/members")
@idempotent
def find_or_create_member(body):
    data = validation.member_lookup(body)
    link = None
    if data.referral_code:
        link = referrals.resolve(db.session, data.referral_code, data.campaign)
        if link is None:
            raise ApiError(422, "unknown_referral_code", "No active member or marketer has this invite code.",
                           {"referral_code": data.referral_code})
    now = utcnow()
    member, created = accounts.find_or_create(
        db.session, ids=data.ids, now=now, display_name=data.display_name, locale=data.locale
    )
    if created:  # an existing customer was not brought by this friend
        referrals.on_join(db.session, member, link, now=now)
    return member_json(member), 201 if created else 200


@bp.get("/members/<int:member_id>")
def show_member(member_id: int):
    member = db.session.get(Member, _in_range(member_id, "member", validation.MAX_MEMBER_ID))
    if member is None:
        raise ApiError(404, "member_not_found", "No member has this id.", {"member_id": member_id})
    return json_response(member_json(member))


@bp.post("/transactions")
@idempotent
def record_transaction(body):
    data = validation.purchase(body, currency=current_club().currency, now=utcnow())
    with renamed(NotFound, "member_not_found"), _naming_the_original(data.external_ref):
        purchase, points = purchases.record_purchase(
            db.session, member_id=data.member_id, amount=data.amount, currency=data.currency,
            occurred_at=data.occurred_at, now=utcnow(), items=data.items,
            external_ref=data.external_ref, channel=data.channel, store=data.store, fee=data.fee,
            api_key_id=current_api_key_id(), created_by=_actor(),
        )
    # the buyer's row as the service locked and moved it: no query
    return {**transaction_json(purchase, new=True), "points_balance": points,
            "credit_balance": purchase.member.credit_balance}, 201


@bp.get("/transactions/<int:transaction_id>")
def show_transaction(transaction_id: int):
    return json_response(transaction_json(_transaction(transaction_id)))


@bp.post("/transactions/<int:transaction_id>/refund")
@idempotent
def refund_transaction(body, transaction_id: int):
    data = validation.refund(body)
    # not loaded first: the service locks the row and must read it fresh
    with renamed(NotFound, "transaction_not_found"):
        refund = purchases.refund_purchase(
            db.session, purchase_id=_in_range(transaction_id, "transaction"), now=utcnow(),
            amount=data.amount, external_ref=data.external_ref, reason=data.reason, created_by=_actor(),
        )
    purchase = db.session.get(Purchase, refund.purchase_id)
    points, credit = balances(purchase.member_id)
    return {
        **refund_json(refund),
        "refundable_amount": purchase.amount - purchase.refunded_amount,
        "points_balance": points,
        "credit_balance": credit,
    }, 201


@bp.post("/credit/spend")
@idempotent
def spend_credit(body):
    data = validation.credit_spend(body)
    with renamed(NotFound, "member_not_found"), _naming_the_original_spend(data.external_ref):
        spend = credit.spend_credit(
            db.session, member_id=data.member_id, amount=data.amount, external_ref=data.external_ref,
            reason=data.reason, api_key_id=current_api_key_id(), now=utcnow(), created_by=_actor(),
        )
    points, credit_balance = balances(spend.member_id)
    return {**credit_spend_json(spend), "points_balance": points, "credit_balance": credit_balance}, 201


@bp.get("/credit/spend/<int:spend_id>")
def show_credit_spend(spend_id: int):
    with renamed(NotFound, "credit_spend_not_found"):
        spend = credit.get_spend(db.session, _in_range(spend_id, "credit_spend"))
    return json_response(credit_spend_json(spend))


@bp.post("/credit/spend/<int:spend_id>/refund")
@idempotent
def refund_credit_spend(body, spend_id: int):
    data = validation.credit_refund(body)
    # not loaded first: the service locks the row and must read it fresh
    with renamed(NotFound, "credit_spend_not_found"):
        refund = credit.refund_credit_spend(
            db.session, spend_id=_in_range(spend_id, "credit_spend"), now=utcnow(),
            amount=data.amount, external_ref=data.external_ref, created_by=_actor(),
        )
    spend = db.session.get(CreditSpend, refund.spend_id)
    points, credit_balance = balances(spend.member_id)
    return {
        **credit_refund_json(refund),
        "member_id": spend.member_id,
        "refunded_amount": spend.refunded_amount,
        "refundable_amount": spend.amount - spend.refunded_amount,
        "points_balance": points,
        "credit_balance": credit_balance,
    }, 201


def _in_range(object_id: int, kind: str, highest: int = validation.MAX_ID) -> int:
    """Ids beyond their column's type cannot exist (and the databases refuse to bind them)."""
    if object_id > highest:
        raise ApiError(404, f"{kind}_not_found", f"No {kind} has this id.", {f"{kind}_id": object_id})
    return object_id


def _transaction(transaction_id: int) -> Purchase:
    purchase = db.session.get(Purchase, _in_range(transaction_id, "transaction"))
    if purchase is None:
        raise ApiError(404, "transaction_not_found", "No transaction has this id.",
                       {"transaction_id": transaction_id})
    return purchase


@contextmanager
def _naming_the_original(external_ref: str | None):
    """A duplicate external_ref answers with the id of the transaction it duplicates."""
    try:
        yield
    except purchases.DuplicateTransaction as exc:
        existing = db.session.scalar(select(Purchase.id).where(Purchase.external_ref == external_ref))
        raise ApiError(exc.status, exc.code, exc.message,
                       {"external_ref": external_ref, "transaction_id": existing}) from exc


@contextmanager
def _naming_the_original_spend(external_ref: str | None):
    """A duplicate external_ref answers with the id of the spend it duplicates."""
    try:
        yield
    except credit.DuplicateCreditSpend as exc:
        existing = db.session.scalar(select(CreditSpend.id).where(CreditSpend.external_ref == external_ref))
        raise ApiError(exc.status, exc.code, exc.message,
                       {"external_ref": external_ref, "spend_id": existing}) from exc
