"""Coupon verification and redemption at the till (/api/v1/coupons)."""

from __future__ import annotations

from webapp.api import bp
from webapp.api.idempotency import idempotent
from webapp.api.keys import current_api_key_id
from webapp.api.responses import ApiError, iso, json_response, renamed
from webapp.api.validation import Checker
from webapp.extensions import db
from webapp.models import Coupon, Reward, utcnow
from webapp.services.errors import NotFound
from webapp.services.offers import rewards

MAX_REFERENCE = 100  # the column's size


def coupon_json(coupon: Coupon, reward: Reward) -> dict:
    return {
        "code": coupon.code,
        "status": rewards.effective_status(coupon, utcnow()),
        "kind": coupon.kind,
        "value": coupon.value,
        "product_sku": reward.product_sku if coupon.kind == "free_product" else None,
        "partner_code": coupon.partner_code,
        "reward_id": reward.id,
        "reward_name_fa": reward.name_fa,
        "reward_name_en": reward.name_en,
        "member_id": coupon.member_id,
        "issued_at": iso(coupon.issued_at),
        "expires_at": iso(coupon.expires_at),
        "used_at": iso(coupon.used_at),
        "used_reference": coupon.used_ref,
    }


def _coupon(code: str, *, lock: bool = False) -> Coupon:
    with renamed(NotFound, "coupon_not_found"):
        return rewards.find_coupon(db.session, code, lock=lock)


@bp.get("/coupons/<code>")
def verify_coupon(code: str):
    coupon = _coupon(code)
    return json_response(coupon_json(coupon, db.session.get(Reward, coupon.reward_id)))


@bp.post("/coupons/<code>/redeem")
@idempotent
def redeem_coupon(body, code: str):
    check = Checker(body, ("reference",))
    reference = check.body.get("reference")
    if reference is not None and not isinstance(reference, str):
        check.fail("reference", "must be a string")
    elif reference is not None:
        reference = reference.strip() or None
        if reference and (len(reference) > MAX_REFERENCE or not reference.isprintable()):
            check.fail("reference", f"must be at most {MAX_REFERENCE} printable characters")
    check.finish()
    _coupon(code)  # 404 before anything else
    try:
        coupon = rewards.use_coupon(db.session, code, now=utcnow(), reference=reference,
                                    api_key_id=current_api_key_id())
    except rewards.CouponNotUsable as exc:
        raise ApiError(409, exc.code, f"The coupon is {exc.details['status']}; it cannot be used.",
                       {"status": exc.details["status"]}) from exc
    return coupon_json(coupon, db.session.get(Reward, coupon.reward_id)), 200


def openapi_paths(ref, json, error, ok, post_errors, get_errors) -> dict:
    """The coupon endpoints in the OpenAPI document (built by `webapp.api.openapi`)."""
    code = {"name": "code", "in": "path", "required": True,
            "description": "The coupon code as the member shows it; case, spaces and dashes do not "
            "matter, and Persian digits are accepted.", "schema": {"type": "string", "maxLength": 64}}
    idem = ref("parameters", "IdempotencyKey")
    return {
        "/coupons/{code}": {
            "parameters": [code],
            "get": {
                "operationId": "verifyCoupon",
                "summary": "Verify a coupon: what it gives, whose it is and whether it can be used",
                "description": "`status` is `issued` only while the coupon can be used; a coupon past "
                "`expires_at` answers `expired` even before the nightly job marks it.",
                "responses": {"200": ok("The coupon.", "Coupon"),
                              "404": error("No coupon has this code.", "coupon_not_found"), **get_errors()},
            },
        },
        "/coupons/{code}/redeem": {
            "parameters": [code],
            "post": {
                "operationId": "redeemCoupon",
                "summary": "Mark a coupon used at the till",
                "description": "Idempotent with the `Idempotency-Key`: a retry returns the first answer. "
                "Two tills using the same coupon at once: one succeeds, the other gets 409 `coupon_used`.",
                "parameters": [idem],
                "requestBody": {"required": True, "content": json(ref("schemas", "CouponRedeemRequest"))},
                "responses": {
                    "200": ok("Used; the coupon as it is now.", "Coupon", replayable=True),
                    **post_errors(),
                    "404": error("No coupon has this code.", "coupon_not_found"),
                    "409": error("The coupon was already used, was cancelled by the club, or has expired; "
                                 "or the key was reused.", "coupon_used", "coupon_cancelled",
                                 "coupon_expired", "idempotency_key_reused", "idempotency_key_in_use"),
                },
            },
        },
    }


def openapi_schemas() -> dict:
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {
        "Coupon": {
            "type": "object",
            "required": ["code", "status", "kind", "value", "product_sku", "partner_code", "reward_id",
                         "reward_name_fa", "reward_name_en", "member_id", "issued_at", "expires_at",
                         "used_at", "used_reference"],
            "properties": {
                "code": {"type": "string", "description": "Canonical form, e.g. `ABCDE-FGH23-JK456`."},
                "status": {"type": "string", "enum": ["issued", "used", "cancelled", "expired"]},
                "kind": {"type": "string", "enum": ["coupon_percent", "coupon_amount", "free_product",
                                                    "credit", "raffle_tickets", "partner_voucher"]},
                "value": {"type": "integer", "description": "Basis points for `coupon_percent` (1000 = "
                          "10%); money in the smallest unit for `coupon_amount` and `credit`; tickets "
                          "for `raffle_tickets`."},
                "product_sku": {"type": ["string", "null"], "description": "For `free_product`."},
                "partner_code": {"type": ["string", "null"], "description": "For `partner_voucher`."},
                "reward_id": {"type": "integer"},
                "reward_name_fa": {"type": "string"},
                "reward_name_en": {"type": "string"},
                "member_id": {"type": "integer"},
                "issued_at": {"type": "string", "format": "date-time"},
                "expires_at": nullable_time,
                "used_at": nullable_time,
                "used_reference": {"type": ["string", "null"]},
            },
        },
        "CouponRedeemRequest": {
            "type": "object",
            "additionalProperties": False,
            "description": "Send `{}` when there is no reference.",
            "properties": {"reference": {"type": "string", "minLength": 1, "maxLength": MAX_REFERENCE,
                                         "description": "Your receipt or order number."}},
        },
    }
