"""The OpenAPI 3.1 document served at /api/v1/openapi.json. Limits come from
`validation`, so the document and the checks cannot drift apart."""

from __future__ import annotations

from webapp.api.idempotency import HEADER, REPLAYED_HEADER
from webapp.api.openapi_schemas import INTEGER_ID, MEMBER_ID, ref, schemas

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


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str, *codes: str) -> dict:
    return {
        "description": f"{description} Codes: {', '.join(f'`{c}`' for c in codes)}.",
        "content": _json(ref("schemas", "Error")),
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
    response = {"description": description, "content": _json(ref("schemas", schema))}
    if replayable:
        response["headers"] = {REPLAYED_HEADER: ref("headers", "IdempotentReplayed")}
    return response


def _post_errors() -> dict:
    return {
        "400": ref("responses", "BadRequest"),
        "401": ref("responses", "Unauthorized"),
        "413": ref("responses", "TooLarge"),
        "415": ref("responses", "UnsupportedMediaType"),
        "422": ref("responses", "Invalid"),
        "429": ref("responses", "RateLimited"),
    }


def _get_errors() -> dict:
    return {"401": ref("responses", "Unauthorized"), "429": ref("responses", "RateLimited")}


def _paths() -> dict:
    idem = ref("parameters", "IdempotencyKey")
    return {
        "/members": {
            "post": {
                "operationId": "findOrCreateMember",
                "summary": "Find the member these identifiers name, or create one",
                "description": "Identifiers are normalised (mobile to E.164, e-mail lower-cased). "
                "A found member gains identifiers it lacked; existing ones are never overwritten.",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(ref("schemas", "MemberLookup"))},
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
            "parameters": [ref("parameters", "MemberId")],
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
                "requestBody": {"required": True, "content": _json(ref("schemas", "PurchaseRequest"))},
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
            "parameters": [ref("parameters", "TransactionId")],
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
            "parameters": [ref("parameters", "TransactionId")],
            "post": {
                "operationId": "refundTransaction",
                "summary": "Refund all or part of a transaction and take back its points",
                "description": "Points are taken back in proportion to the refunded amount; partial "
                "refunds add up exactly to the points earned. Points the member already spent are "
                "not taken below zero: they are reported as `points_shortfall`.",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(ref("schemas", "RefundRequest"))},
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
                "requestBody": {"required": True, "content": _json(ref("schemas", "CreditSpendRequest"))},
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
            "parameters": [ref("parameters", "SpendId")],
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
            "parameters": [ref("parameters", "SpendId")],
            "post": {
                "operationId": "refundCreditSpend",
                "summary": "Give back all or part of a credit spend",
                "parameters": [idem],
                "requestBody": {"required": True, "content": _json(ref("schemas", "CreditRefundRequest"))},
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
                    "429": ref("responses", "RateLimited"),
                },
            }
        },
    }


def _coupon_paths() -> dict:
    from webapp.api import coupons  # the coupon module keeps its document beside its checks

    return coupons.openapi_paths(ref, _json, _error, _ok, _post_errors, _get_errors)


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
            "schemas": {**schemas(currency), **_coupon_schemas()},
        },
    }
