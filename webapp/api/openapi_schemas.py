"""The OpenAPI document's component schemas (request and answer bodies). Data,
not logic: limits come from `validation`, so the schemas and the checks cannot
drift apart."""

from __future__ import annotations

from webapp.api import validation as v


def ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def text(name: str, **extra) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": v.LENGTHS[name], **extra}


INTEGER_ID = {"type": "integer", "minimum": 1, "maximum": v.MAX_ID}
MEMBER_ID = {"type": "integer", "minimum": 1, "maximum": v.MAX_MEMBER_ID}
AMOUNT = {"type": "integer", "minimum": 1, "maximum": v.MAX_AMOUNT}
TIMESTAMP = {"type": "string", "format": "date-time"}


def schemas(currency: str) -> dict:
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
                "tier": {"anyOf": [ref("schemas", "Tier"), {"type": "null"}],
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
                "mobile": text("mobile"),
                "email": text("email", format="email"),
                "external_id": text("external_id", description="Your system's customer id."),
                "display_name": text("display_name", description="Used only when creating."),
                "locale": {"type": "string", "enum": list(v.LOCALES),
                           "description": "Used only when creating."},
                "referral_code": text("referral_code", description=(
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
                "sku": text("sku"),
                "category": text("category"),
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
                "items": {"type": "array", "maxItems": v.MAX_ITEMS, "items": ref("schemas", "Item")},
                "external_ref": text("external_ref", description="Your receipt id; unique across "
                                      "transactions (a second transaction with it is refused with 409)."),
                "channel": text("channel", description="e.g. store, web, app."),
                "store": text("store"),
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
                "refunds": {"type": "array", "items": ref("schemas", "Refund")},
                "created_at": TIMESTAMP,
            },
        },
        "TransactionRecorded": {
            "allOf": [
                ref("schemas", "Transaction"),
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
                "external_ref": text("external_ref", description="Your refund id; unique per "
                                      "transaction (409 `conflict` when recorded before)."),
                "reason": text("reason"),
            },
        },
        "RefundRecorded": {
            "allOf": [
                ref("schemas", "Refund"),
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
                "external_ref": text("external_ref", description="Your receipt id; unique across "
                                      "credit spends (a second spend with it is refused with 409)."),
                "reason": text("reason"),
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
                "refunds": {"type": "array", "items": ref("schemas", "CreditRefund")},
                "created_at": TIMESTAMP,
            },
        },
        "CreditSpendRecorded": {
            "allOf": [
                ref("schemas", "CreditSpend"),
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
                "external_ref": text("external_ref", description="Your refund id; unique per "
                                      "spend (409 `duplicate_credit_refund` when recorded before)."),
            },
        },
        "CreditRefundRecorded": {
            "allOf": [
                ref("schemas", "CreditRefund"),
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
