"""The OpenAPI 3.1 document served at /api/v1/openapi.json. Limits come from
`validation`, so the document and the checks cannot drift apart."""

from __future__ import annotations

from webapp.api import validation as v
from webapp.api.idempotency import HEADER, REPLAYED_HEADER

INTRO = f"""\
The Vafa customer-club API for tills and web shops.

**Authentication.** Every endpoint except this document needs an API key created by
the club owner (`vafa create-api-key` or /admin): `Authorization: Bearer vafa_<prefix>_<secret>`.
Keys are club-wide; a revoked key is refused with 401.

**Rate limit.** Each key has one budget shared by all endpoints (requests without a valid
key count per IP address). Over it the answer is 429 `rate_limited`; the `Retry-After`
and `X-RateLimit-*` headers tell when to try again.

**Idempotency.** Every POST needs an `{HEADER}` header: 1 to 200 printable ASCII
characters, unique per operation (a UUID is a good choice); keys are scoped per API key.
Sending the same key with the same request (method, path and JSON body, whatever its
key order or spacing) returns the first answer again, status and body, with the header
`{REPLAYED_HEADER}: true`, and has no second effect. The same key with a different
request is refused with 409 `idempotency_key_reused`. Only successful (2xx) answers are
stored: after an error (4xx/5xx) nothing was changed and a retry with the same key runs
again. Two identical requests sent at the same time are safe: the second waits for the
first and replays its answer. Stored answers are kept for 7 days; retry within that time.

**Bodies.** POST bodies must be `application/json`, at most the configured size (64 KiB by
default; 413 `body_too_large`), valid JSON (400 `invalid_json`) and one object. Fields are
checked strictly (422 `invalid`, with `error.details` naming each bad field): unknown fields
are rejected, booleans are not integers, `null` or `""` in an optional field means "not given".
Money amounts are integers in the smallest unit of the club's currency.

**Errors.** Every error is `{{"error": {{"code": "...", "message": "...", "details": {{...}}}}}}`;
branch on `code`, show `message` to people. Timestamps are ISO-8601 in UTC.
"""


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _text(name: str, **extra) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": v.LENGTHS[name], **extra}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str, *codes: str) -> dict:
    return {
        "description": f"{description} Codes: {', '.join(f'`{c}`' for c in codes)}.",
        "content": _json(_ref("schemas", "Error")),
    }


INTEGER_ID = {"type": "integer", "minimum": 1, "maximum": v.MAX_ID}
MEMBER_ID = {"type": "integer", "minimum": 1, "maximum": v.MAX_MEMBER_ID}
AMOUNT = {"type": "integer", "minimum": 1, "maximum": v.MAX_AMOUNT}
TIMESTAMP = {"type": "string", "format": "date-time"}


def _schemas(currency: str) -> dict:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable, machine-readable."},
                        "message": {"type": "string", "description": "For people (English)."},
                        "details": {
                            "type": "object",
                            "description": "For `invalid`: field name (e.g. `items[2].qty`) → problem. "
                            "Other codes may add ids (e.g. `transaction_id` of the duplicated transaction).",
                        },
                    },
                }
            },
        },
        "Tier": {
            "type": "object",
            "description": "The level the member holds (a staff override included). Rank 0 is "
            "the entry level.",
            "required": ["code", "name_fa", "name_en", "rank"],
            "properties": {
                "code": {"type": "string", "description": "Stable, e.g. `gold`."},
                "name_fa": {"type": "string"},
                "name_en": {"type": "string"},
                "rank": {"type": "integer", "minimum": 0},
            },
        },
        "Member": {
            "type": "object",
            "required": ["id", "display_name", "email", "mobile", "external_id", "locale", "status",
                         "points_balance", "credit_balance", "tier", "created_at"],
            "properties": {
                "id": MEMBER_ID,
                "display_name": {"type": "string"},
                "email": {"type": ["string", "null"], "format": "email"},
                "mobile": {"type": ["string", "null"], "description": "E.164, e.g. +989121234567."},
                "external_id": {"type": ["string", "null"]},
                "locale": {"type": ["string", "null"], "enum": [*v.LOCALES, None]},
                "status": {"type": "string", "enum": ["active", "suspended", "closed"]},
                "points_balance": {"type": "integer", "minimum": 0},
                "credit_balance": {"type": "integer", "minimum": 0,
                                   "description": "Store credit in the smallest money unit."},
                "tier": {"anyOf": [_ref("schemas", "Tier"), {"type": "null"}],
                         "description": "null when the club has no tier program."},
                "created_at": TIMESTAMP,
            },
        },
        "MemberLookup": {
            "type": "object",
            "additionalProperties": False,
            "description": "At least one of `mobile`, `email`, `external_id`. Mobiles may use "
            "Persian or Arabic digits and any usual form (0912…, +98912…, 0098912…).",
            "properties": {
                "mobile": _text("mobile"),
                "email": _text("email", format="email"),
                "external_id": _text("external_id", description="Your system's customer id."),
                "display_name": _text("display_name", description="Used only when creating."),
                "locale": {"type": "string", "enum": list(v.LOCALES),
                           "description": "Used only when creating."},
                "referral_code": _text("referral_code", description=(
                    "The invite code, or the whole invite link scanned from the friend's QR code, of the member "
                    "or marketer who brought this customer. Used only when creating; an unknown code is a 422 "
                    "`unknown_referral_code` and nothing is created.")),
            },
            "anyOf": [{"required": ["mobile"]}, {"required": ["email"]}, {"required": ["external_id"]}],
        },
        "Item": {
            "type": "object",
            "additionalProperties": False,
            "required": ["qty", "price"],
            "properties": {
                "sku": _text("sku"),
                "category": _text("category"),
                "qty": {"type": "integer", "minimum": 1, "maximum": v.MAX_QTY},
                "price": {"type": "integer", "minimum": 0, "maximum": v.MAX_AMOUNT,
                          "description": "Unit price in the smallest money unit."},
            },
        },
        "PurchaseRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["member_id", "amount", "currency", "occurred_at"],
            "properties": {
                "member_id": MEMBER_ID,
                "amount": {**AMOUNT, "description": "Total paid, in the smallest money unit."},
                "currency": {"type": "string", "const": currency,
                             "description": "Must be the club's currency."},
                "occurred_at": {**TIMESTAMP, "description": "With a time zone; from 2000-01-01 "
                                "to at most one day after now."},
                "items": {"type": "array", "maxItems": v.MAX_ITEMS, "items": _ref("schemas", "Item")},
                "external_ref": _text("external_ref", description="Your receipt id; unique across "
                                      "transactions (a second transaction with it is refused with 409)."),
                "channel": _text("channel", description="e.g. store, web, app."),
                "store": _text("store"),
                "fee": {"type": "integer", "minimum": 0, "maximum": v.MAX_AMOUNT, "description":
                        "A fee charged on the purchase (e.g. a brokerage commission), at most "
                        "`amount`; clubs with fee rebates credit points for it. Default 0."},
            },
        },
        "Refund": {
            "type": "object",
            "required": ["id", "transaction_id", "amount", "points_reversed", "points_shortfall",
                         "external_ref", "reason", "created_at"],
            "properties": {
                "id": INTEGER_ID,
                "transaction_id": INTEGER_ID,
                "amount": AMOUNT,
                "points_reversed": {"type": "integer", "minimum": 0,
                                    "description": "Points taken back from the member."},
                "points_shortfall": {"type": "integer", "minimum": 0, "description":
                                     "Points owed back that the member had already spent: recorded, "
                                     "never taken below a zero balance."},
                "external_ref": {"type": ["string", "null"]},
                "reason": {"type": ["string", "null"]},
                "created_at": TIMESTAMP,
            },
        },
        "Transaction": {
            "type": "object",
            "required": ["id", "member_id", "amount", "currency", "occurred_at", "external_ref",
                         "channel", "store", "fee", "items", "points_earned", "refunded_amount",
                         "points_reversed", "refunds", "created_at"],
            "properties": {
                "id": INTEGER_ID,
                "member_id": MEMBER_ID,
                "amount": AMOUNT,
                "currency": {"type": "string"},
                "occurred_at": TIMESTAMP,
                "external_ref": {"type": ["string", "null"]},
                "channel": {"type": ["string", "null"]},
                "store": {"type": ["string", "null"]},
                "fee": {"type": "integer", "minimum": 0},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["sku", "category", "qty", "price"],
                        "properties": {
                            "sku": {"type": ["string", "null"]},
                            "category": {"type": ["string", "null"]},
                            "qty": {"type": "integer"},
                            "price": {"type": "integer"},
                        },
                    },
                },
                "points_earned": {"type": "integer", "minimum": 0},
                "refunded_amount": {"type": "integer", "minimum": 0},
                "points_reversed": {"type": "integer", "minimum": 0},
                "refunds": {"type": "array", "items": _ref("schemas", "Refund")},
                "created_at": TIMESTAMP,
            },
        },
        "TransactionRecorded": {
            "allOf": [
                _ref("schemas", "Transaction"),
                {
                    "type": "object",
                    "required": ["points_balance", "credit_balance"],
                    "properties": {
                        "points_balance": {"type": "integer", "minimum": 0,
                                           "description": "The member's points after this purchase."},
                        "credit_balance": {"type": "integer", "minimum": 0},
                    },
                },
            ]
        },
        "RefundRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "amount": {**AMOUNT, "description": "Default: everything not yet refunded."},
                "external_ref": _text("external_ref", description="Your refund id; unique per "
                                      "transaction (409 `conflict` when recorded before)."),
                "reason": _text("reason"),
            },
        },
        "RefundRecorded": {
            "allOf": [
                _ref("schemas", "Refund"),
                {
                    "type": "object",
                    "required": ["refundable_amount", "points_balance", "credit_balance"],
                    "properties": {
                        "refundable_amount": {"type": "integer", "minimum": 0,
                                              "description": "What is left to refund."},
                        "points_balance": {"type": "integer", "minimum": 0},
                        "credit_balance": {"type": "integer", "minimum": 0},
                    },
                },
            ]
        },
        "CreditSpendRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["member_id", "amount"],
            "properties": {
                "member_id": MEMBER_ID,
                "amount": {**AMOUNT, "description": "Store credit to spend, in the smallest money unit."},
                "external_ref": _text("external_ref", description="Your receipt id; unique across "
                                      "credit spends (a second spend with it is refused with 409)."),
                "reason": _text("reason"),
            },
        },
        "CreditRefund": {
            "type": "object",
            "required": ["id", "spend_id", "amount", "external_ref", "created_at"],
            "properties": {
                "id": INTEGER_ID,
                "spend_id": INTEGER_ID,
                "amount": AMOUNT,
                "external_ref": {"type": ["string", "null"]},
                "created_at": TIMESTAMP,
            },
        },
        "CreditSpend": {
            "type": "object",
            "required": ["id", "member_id", "amount", "refunded_amount", "external_ref", "reason",
                         "refunds", "created_at"],
            "properties": {
                "id": INTEGER_ID,
                "member_id": MEMBER_ID,
                "amount": AMOUNT,
                "refunded_amount": {"type": "integer", "minimum": 0},
                "external_ref": {"type": ["string", "null"]},
                "reason": {"type": ["string", "null"]},
                "refunds": {"type": "array", "items": _ref("schemas", "CreditRefund")},
                "created_at": TIMESTAMP,
            },
        },
        "CreditSpendRecorded": {
            "allOf": [
                _ref("schemas", "CreditSpend"),
                {
                    "type": "object",
                    "required": ["points_balance", "credit_balance"],
                    "properties": {
                        "points_balance": {"type": "integer", "minimum": 0},
                        "credit_balance": {"type": "integer", "minimum": 0,
                                           "description": "The member's store credit after this spend."},
                    },
                },
            ]
        },
        "CreditRefundRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "amount": {**AMOUNT, "description": "Default: everything not yet refunded."},
                "external_ref": _text("external_ref", description="Your refund id; unique per "
                                      "spend (409 `duplicate_credit_refund` when recorded before)."),
            },
        },
        "CreditRefundRecorded": {
            "allOf": [
                _ref("schemas", "CreditRefund"),
                {
                    "type": "object",
                    "required": ["member_id", "refunded_amount", "refundable_amount",
                                 "points_balance", "credit_balance"],
                    "properties": {
                        "member_id": MEMBER_ID,
                        "refunded_amount": {"type": "integer", "minimum": 0,
                                            "description": "Of the spend, in all refunds so far."},
                        "refundable_amount": {"type": "integer", "minimum": 0,
                                              "description": "What is left to refund."},
                        "points_balance": {"type": "integer", "minimum": 0},
                        "credit_balance": {"type": "integer", "minimum": 0},
                    },
                },
            ]
        },
    }


RESPONSES = {
    "BadRequest": _error("The Idempotency-Key header is missing or invalid, or the body is not JSON.",
                         "missing_idempotency_key", "invalid_idempotency_key", "invalid_json"),
    "Unauthorized": _error("No API key, or an unknown or revoked one.", "unauthorized"),
    "IdempotencyConflict": _error("The Idempotency-Key was used for a different request (or a "
                                  "request with it is still running).",
                                  "idempotency_key_reused", "idempotency_key_in_use"),
    "TooLarge": _error("The body is larger than the limit.", "body_too_large"),
    "UnsupportedMediaType": _error("The body is not `application/json`.", "unsupported_media_type"),
    "Invalid": _error("Fields are missing or invalid; `details` names each.", "invalid"),
    "RateLimited": {
        **_error("Too many requests for this key.", "rate_limited"),
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
}

PARAMETERS = {
    "IdempotencyKey": {
        "name": HEADER,
        "in": "header",
        "required": True,
        "description": "Unique per operation; see the introduction.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x20-\\x7E]+$"},
    },
    "MemberId": {"name": "member_id", "in": "path", "required": True, "schema": MEMBER_ID},
    "TransactionId": {"name": "transaction_id", "in": "path", "required": True, "schema": INTEGER_ID},
    "SpendId": {"name": "spend_id", "in": "path", "required": True, "schema": INTEGER_ID},
}

HEADERS = {
    "IdempotentReplayed": {
        "description": "`true` when this answer is the stored answer to an earlier identical request.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _ok(description: str, schema: str, replayable: bool = False) -> dict:
    response = {"description": description, "content": _json(_ref("schemas", schema))}
    if replayable:
        response["headers"] = {REPLAYED_HEADER: _ref("headers", "IdempotentReplayed")}
    return response


def _post_errors() -> dict:
    return {
        "400": _ref("responses", "BadRequest"),
        "401": _ref("responses", "Unauthorized"),
        "413": _ref("responses", "TooLarge"),
        "415": _ref("responses", "UnsupportedMediaType"),
        "422": _ref("responses", "Invalid"),
        "429": _ref("responses", "RateLimited"),
    }


def _get_errors() -> dict:
    return {"401": _ref("responses", "Unauthorized"), "429": _ref("responses", "RateLimited")}


def _paths() -> dict:
    idem = _ref("parameters", "IdempotencyKey")
    return {
        "/members": {
            "post": {
                "operationId": "findOrCreateMember",
                "summary": "Find the member these identifiers name, or create one",
                "description": "Identifiers are normalised (mobile to E.164, e-mail lower-cased). "
                "A found member gains identifiers it lacked; existing ones are never overwritten.",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(_ref("schemas", "MemberLookup"))},
                "responses": {
                    "200": _ok("Found.", "Member", replayable=True),
                    "201": _ok("Created.", "Member", replayable=True),
                    **_post_errors(),
                    "422": _error("Fields are invalid, or `referral_code` names no active member or marketer.",
                                  "invalid", "unknown_referral_code"),
                    "409": _error("The identifiers name different members (`details.member_ids`), "
                                  "the key was reused, or a concurrent request created the member "
                                  "first (retry with a new key to find it).",
                                  "conflict", "already_registered", "idempotency_key_reused",
                                  "idempotency_key_in_use"),
                },
            }
        },
        "/members/{member_id}": {
            "parameters": [_ref("parameters", "MemberId")],
            "get": {
                "operationId": "getMember",
                "summary": "A member with balances",
                "responses": {
                    "200": _ok("The member.", "Member"),
                    "404": _error("No member has this id.", "member_not_found"),
                    **_get_errors(),
                },
            },
        },
        "/transactions": {
            "post": {
                "operationId": "recordTransaction",
                "summary": "Record a purchase; it earns points by the club's earn rule",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(_ref("schemas", "PurchaseRequest"))},
                "responses": {
                    "201": _ok("Recorded, with the points it earned and the member's new balances.",
                               "TransactionRecorded", replayable=True),
                    **_post_errors(),
                    "404": _error("`member_id` names no member.", "member_not_found"),
                    "409": _error("`external_ref` was recorded before (`details.transaction_id` is "
                                  "that transaction), the member is not active, or the key was reused.",
                                  "duplicate_transaction", "member_not_active",
                                  "idempotency_key_reused", "idempotency_key_in_use"),
                },
            }
        },
        "/transactions/{transaction_id}": {
            "parameters": [_ref("parameters", "TransactionId")],
            "get": {
                "operationId": "getTransaction",
                "summary": "A transaction with its items and refunds",
                "responses": {
                    "200": _ok("The transaction.", "Transaction"),
                    "404": _error("No transaction has this id.", "transaction_not_found"),
                    **_get_errors(),
                },
            },
        },
        "/transactions/{transaction_id}/refund": {
            "parameters": [_ref("parameters", "TransactionId")],
            "post": {
                "operationId": "refundTransaction",
                "summary": "Refund all or part of a transaction and take back its points",
                "description": "Points are taken back in proportion to the refunded amount; partial "
                "refunds add up exactly to the points earned. Points the member already spent are "
                "not taken below zero: they are reported as `points_shortfall`.",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(_ref("schemas", "RefundRequest"))},
                "responses": {
                    "201": _ok("Refunded.", "RefundRecorded", replayable=True),
                    **_post_errors(),
                    "404": _error("No transaction has this id.", "transaction_not_found"),
                    "409": _error("A refund with this `external_ref` was recorded before, or the key "
                                  "was reused.", "conflict", "idempotency_key_reused",
                                  "idempotency_key_in_use"),
                    "422": _error("Fields are invalid, or the amount is more than is left to refund "
                                  "(`details.refundable`).", "invalid", "refund_exceeds_purchase"),
                },
            },
        },
        "/credit/spend": {
            "post": {
                "operationId": "spendCredit",
                "summary": "Spend a member's store credit at the till",
                "description": "The balance never goes below zero, however many requests arrive at "
                "once: a spend larger than the balance is refused and changes nothing.",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(_ref("schemas", "CreditSpendRequest"))},
                "responses": {
                    "201": _ok("Spent, with the member's new balances.", "CreditSpendRecorded",
                               replayable=True),
                    **_post_errors(),
                    "404": _error("`member_id` names no member.", "member_not_found"),
                    "409": _error("Not enough store credit, `external_ref` was spent before "
                                  "(`details.spend_id` is that spend), the member is not active, or "
                                  "the key was reused.", "insufficient_credit", "duplicate_credit_spend",
                                  "member_not_active", "idempotency_key_reused", "idempotency_key_in_use"),
                },
            }
        },
        "/credit/spend/{spend_id}": {
            "parameters": [_ref("parameters", "SpendId")],
            "get": {
                "operationId": "getCreditSpend",
                "summary": "A credit spend with its refunds",
                "responses": {
                    "200": _ok("The spend.", "CreditSpend"),
                    "404": _error("No credit spend has this id.", "credit_spend_not_found"),
                    **_get_errors(),
                },
            },
        },
        "/credit/spend/{spend_id}/refund": {
            "parameters": [_ref("parameters", "SpendId")],
            "post": {
                "operationId": "refundCreditSpend",
                "summary": "Give back all or part of a credit spend",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(_ref("schemas", "CreditRefundRequest"))},
                "responses": {
                    "201": _ok("Refunded to the member's store credit.", "CreditRefundRecorded",
                               replayable=True),
                    **_post_errors(),
                    "404": _error("No credit spend has this id.", "credit_spend_not_found"),
                    "409": _error("A refund with this `external_ref` was recorded before for this "
                                  "spend, or the key was reused.", "duplicate_credit_refund",
                                  "idempotency_key_reused", "idempotency_key_in_use"),
                    "422": _error("Fields are invalid, or the amount is more than is left to refund "
                                  "(`details.refundable`).", "invalid", "refund_exceeds_spend"),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {"description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "429": _ref("responses", "RateLimited"),
                },
            }
        },
    }


def _coupon_paths() -> dict:
    from webapp.api import coupons  # the coupon module keeps its document beside its checks

    return coupons.openapi_paths(_ref, _json, _error, _ok, _post_errors, _get_errors)


def _coupon_schemas() -> dict:
    from webapp.api import coupons

    return coupons.openapi_schemas()


def document(currency: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vafa integration API",
            "version": "1.0.0",
            "description": INTRO,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {**_paths(), **_coupon_paths()},
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: `vafa_<prefix>_<secret>`.",
                }
            },
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "responses": RESPONSES,
            "schemas": {**_schemas(currency), **_coupon_schemas()},
        },
    }
