"""What the API answers: errors as {"error": {code, message, details?}} and the
JSON shapes of members, transactions, refunds and credit spends (timestamps
ISO-8601 UTC)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Response
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import CreditRefund, CreditSpend, Member, Purchase, PurchaseItem, PurchaseRefund
from webapp.services import tiers
from webapp.services.errors import DomainError
from webapp.services.ledger import credit


class ApiError(Exception):
    """An answer other than success, raised anywhere below a view."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}

    @classmethod
    def from_domain(cls, exc: DomainError, code: str | None = None) -> ApiError:
        return cls(exc.status, code or exc.code, exc.message, _plain(exc.details))


def _plain(details: dict) -> dict:
    # service details may hold ids, lists or strings; anything else as text
    return {k: v if isinstance(v, (int, str, list, type(None))) else str(v) for k, v in details.items()}


def json_response(payload: dict, status: int = 200, headers: dict | None = None) -> Response:
    return text_response(dump(payload), status, headers)


def text_response(text: str, status: int, headers: dict | None = None) -> Response:
    return Response(text, status=status, mimetype="application/json", headers=headers)


def dump(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def error_response(exc: ApiError) -> Response:
    body = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details
    return json_response({"error": body}, exc.status, exc.headers)


@contextmanager
def renamed(error: type[DomainError], code: str):
    """Give a service error the API's more specific code (e.g. `member_not_found`)."""
    try:
        yield
    except error as exc:
        raise ApiError.from_domain(exc, code) from exc


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def balances(member_id: int) -> tuple[int, int]:
    """Read from the row: the ledger moves balances with UPDATEs the ORM does not see."""
    row = db.session.execute(
        select(Member.points_balance, Member.credit_balance).where(Member.id == member_id)
    ).one()
    return row.points_balance, row.credit_balance


def member_json(member: Member) -> dict:
    points, credit = balances(member.id)
    return {
        "id": member.id,
        "display_name": member.display_name,
        "email": member.email,
        "mobile": member.mobile,
        "external_id": member.external_id,
        "locale": member.locale,
        "status": member.status,
        "points_balance": points,
        "credit_balance": credit,
        "tier": tier_json(member),
        "created_at": iso(member.created_at),
    }


def tier_json(member: Member) -> dict | None:
    """The level the member holds (overrides included); null without a tier program."""
    level = tiers.member_level(db.session, member)
    if level is None:
        return None
    return {"code": level.code, "name_fa": level.name_fa, "name_en": level.name_en, "rank": level.rank}


def transaction_json(purchase: Purchase, *, new: bool = False) -> dict:
    """`new`: the purchase was recorded in this request, its items through the
    relationship (`purchases.record_purchase`) and no refund yet: nothing to read back."""
    items = purchase.items if new else db.session.scalars(
        select(PurchaseItem).where(PurchaseItem.purchase_id == purchase.id).order_by(PurchaseItem.id)
    )
    refunds = () if new else db.session.scalars(
        select(PurchaseRefund).where(PurchaseRefund.purchase_id == purchase.id).order_by(PurchaseRefund.id)
    )
    return {
        "id": purchase.id,
        "member_id": purchase.member_id,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "occurred_at": iso(purchase.occurred_at),
        "external_ref": purchase.external_ref,
        "channel": purchase.channel,
        "store": purchase.store,
        "fee": purchase.fee,
        "items": [
            {"sku": i.sku, "category": i.category, "qty": i.qty, "price": i.price} for i in items
        ],
        "points_earned": purchase.points_earned,
        "refunded_amount": purchase.refunded_amount,
        "points_reversed": purchase.points_reversed,
        "refunds": [refund_json(r) for r in refunds],
        "created_at": iso(purchase.created_at),
    }


def refund_json(refund: PurchaseRefund) -> dict:
    return {
        "id": refund.id,
        "transaction_id": refund.purchase_id,
        "amount": refund.amount,
        "points_reversed": refund.points_reversed,
        "points_shortfall": refund.points_shortfall,
        "external_ref": refund.external_ref,
        "reason": refund.reason,
        "created_at": iso(refund.created_at),
    }


def credit_spend_json(spend: CreditSpend) -> dict:
    refunds = credit.refunds_of(db.session, spend.id)
    return {
        "id": spend.id,
        "member_id": spend.member_id,
        "amount": spend.amount,
        "refunded_amount": spend.refunded_amount,
        "external_ref": spend.external_ref,
        "reason": spend.reason,
        "refunds": [credit_refund_json(r) for r in refunds],
        "created_at": iso(spend.created_at),
    }


def credit_refund_json(refund: CreditRefund) -> dict:
    return {
        "id": refund.id,
        "spend_id": refund.spend_id,
        "amount": refund.amount,
        "external_ref": refund.external_ref,
        "created_at": iso(refund.created_at),
    }
