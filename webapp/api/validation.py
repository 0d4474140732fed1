"""Turning parsed JSON into clean, typed input — or a 422 that names every bad field.

Rules shared by all bodies: unknown fields are rejected; `null` or an empty
string in an optional field means "not given"; booleans are not integers;
strings are trimmed, length-limited and may not hold control characters."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from webapp.api.responses import ApiError
from webapp.services.errors import DomainError
from webapp.services.ledger.purchases import ItemLine
from webapp.services.members.accounts import Identifiers
from webapp.services.members.identity import normalise_email, normalise_mobile

MAX_AMOUNT = 10**15
MAX_ITEMS = 200
MAX_QTY = 10_000
MAX_ID = 2**63 - 1  # BIGINT ids (transactions)
MAX_MEMBER_ID = 2**31 - 1  # member.id is INTEGER; PostgreSQL refuses larger parameters
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
LOCALES = ("fa", "en")
# column sizes of the models these strings are stored in
LENGTHS = {
    "email": 254, "mobile": 32, "external_id": 64, "display_name": 80, "external_ref": 100,
    "channel": 32, "store": 64, "sku": 64, "category": 64, "reason": 300, "currency": 3, "locale": 5,
    "referral_code": 200,
}


class Checker:
    """Collects every problem of one JSON object before answering."""

    def __init__(self, body: object, allowed: tuple[str, ...], *, prefix: str = "",
                 errors: dict | None = None) -> None:
        self.errors = {} if errors is None else errors
        self.prefix = prefix
        if not isinstance(body, dict):
            self.body: dict = {}
            self.errors[prefix.rstrip(".") or "body"] = "must be a JSON object"
            return
        self.body = body
        for name in body:
            if name not in allowed:
                self.fail(name, "unknown field")

    def fail(self, name: str, problem: str) -> None:
        self.errors.setdefault(self.prefix + name, problem)

    def given(self, name: str) -> bool:
        value = self.body.get(name)
        return value is not None and value != ""

    def integer(self, name: str, *, low: int, high: int, required: bool = False) -> int | None:
        if not self.given(name):
            if required:
                self.fail(name, "required")
            return None
        value = self.body[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be an integer")
            return None
        if not low <= value <= high:
            self.fail(name, f"must be between {low} and {high}")
            return None
        return value

    def text(self, name: str, *, required: bool = False) -> str | None:
        if not self.given(name):
            if required:
                self.fail(name, "required")
            return None
        value = self.body[name]
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return None
        value = value.strip()
        limit = LENGTHS[name]
        if not value:
            if required:
                self.fail(name, "required")
            return None
        if len(value) > limit:
            self.fail(name, f"must be at most {limit} characters")
            return None
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            self.fail(name, "must not contain control characters")
            return None
        return value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in options:
            self.fail(name, f"must be one of: {', '.join(options)}")
            return None
        return value

    def moment(self, name: str, *, now: datetime) -> datetime | None:
        if not self.given(name):
            self.fail(name, "required")
            return None
        value = self.body[name]
        if not isinstance(value, str):
            self.fail(name, "must be an ISO-8601 date-time string")
            return None
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(name, "must be an ISO-8601 date-time, e.g. 2026-11-25T09:30:00+03:30")
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail(name, "must include a time zone (Z or an offset such as +03:30)")
            return None
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            self.fail(name, "is out of range")
            return None
        if parsed < EARLIEST:
            self.fail(name, "must not be before 2000-01-01")
            return None
        if parsed > now + FUTURE_SLACK:
            self.fail(name, "must not be more than one day in the future")
            return None
        return parsed

    def finish(self) -> None:
        if self.errors:
            raise ApiError(422, "invalid", "Some fields are missing or invalid; see details.", self.errors)


# -- bodies ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLookup:
    ids: Identifiers
    display_name: str
    locale: str | None
    referral_code: str | None = None
    campaign: str | None = None


def member_lookup(body: object) -> MemberLookup:
    check = Checker(body, ("mobile", "email", "external_id", "display_name", "locale", "referral_code"))
    email = _identifier(check, "email", normalise_email)
    mobile = _identifier(check, "mobile", normalise_mobile)
    external_id = check.text("external_id")
    display_name = check.text("display_name") or ""
    locale = check.choice("locale", LOCALES)
    code, campaign = invite_code(check.text("referral_code"))
    if not check.errors and not (email or mobile or external_id):
        check.fail("identifiers", "give at least one of mobile, email, external_id")
    check.finish()
    return MemberLookup(Identifiers(email, mobile, external_id), display_name, locale, code, campaign)


def invite_code(raw: str | None) -> tuple[str | None, str | None]:
    """The code (and campaign tag) of `ABCD2345` or of an invite link the till
    scanned from the friend's QR code: `https://club.example/r/ABCD2345?c=spring`."""
    if not raw:
        return None, None
    parts = urlsplit(raw.strip())
    if "/r/" not in parts.path:
        return raw.strip(), None
    code = parts.path.rsplit("/r/", 1)[1].strip("/")
    return code, (parse_qs(parts.query).get("c") or [None])[0]


def _identifier(check: Checker, name: str, normalise) -> str | None:
    raw = check.text(name)
    if raw is None:
        return None
    try:
        return normalise(raw)
    except DomainError as exc:
        check.fail(name, exc.message)
        return None


@dataclass(frozen=True)
class PurchaseInput:
    member_id: int
    amount: int
    currency: str
    occurred_at: datetime
    items: tuple[ItemLine, ...]
    external_ref: str | None
    channel: str | None
    store: str | None
    fee: int = 0


def purchase(body: object, *, currency: str, now: datetime) -> PurchaseInput:
    check = Checker(body, ("member_id", "amount", "currency", "occurred_at", "items",
                           "external_ref", "channel", "store", "fee"))
    member_id = check.integer("member_id", low=1, high=MAX_MEMBER_ID, required=True)
    amount = check.integer("amount", low=1, high=MAX_AMOUNT, required=True)
    fee = check.integer("fee", low=0, high=MAX_AMOUNT)
    if fee is not None and amount is not None and fee > amount:
        check.fail("fee", "must not be more than amount")
    check.choice("currency", (currency,), required=True)  # the club's one currency
    occurred_at = check.moment("occurred_at", now=now)
    items = _items(check)
    external_ref = check.text("external_ref")
    channel = check.text("channel")
    store = check.text("store")
    check.finish()
    return PurchaseInput(member_id, amount, currency, occurred_at, items, external_ref, channel, store,
                         fee or 0)


def _items(check: Checker) -> tuple[ItemLine, ...]:
    raw = check.body.get("items")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.fail("items", "must be a list")
        return ()
    if len(raw) > MAX_ITEMS:
        check.fail("items", f"must have at most {MAX_ITEMS} entries")
        return ()
    lines = []
    for n, item in enumerate(raw):
        line = Checker(item, ("sku", "category", "qty", "price"), prefix=f"items[{n}].", errors=check.errors)
        sku, category = line.text("sku"), line.text("category")
        qty = line.integer("qty", low=1, high=MAX_QTY, required=True)
        price = line.integer("price", low=0, high=MAX_AMOUNT, required=True)
        lines.append(ItemLine(sku=sku, category=category, qty=qty, price=price))
    return tuple(lines)


@dataclass(frozen=True)
class RefundInput:
    amount: int | None
    external_ref: str | None
    reason: str | None


def refund(body: object) -> RefundInput:
    check = Checker(body, ("amount", "external_ref", "reason"))
    amount = check.integer("amount", low=1, high=MAX_AMOUNT)
    external_ref = check.text("external_ref")
    reason = check.text("reason")
    check.finish()
    return RefundInput(amount, external_ref, reason)


@dataclass(frozen=True)
class CreditSpendInput:
    member_id: int
    amount: int
    external_ref: str | None
    reason: str | None


def credit_spend(body: object) -> CreditSpendInput:
    check = Checker(body, ("member_id", "amount", "external_ref", "reason"))
    member_id = check.integer("member_id", low=1, high=MAX_MEMBER_ID, required=True)
    amount = check.integer("amount", low=1, high=MAX_AMOUNT, required=True)
    external_ref = check.text("external_ref")
    reason = check.text("reason")
    check.finish()
    return CreditSpendInput(member_id, amount, external_ref, reason)


@dataclass(frozen=True)
class CreditRefundInput:
    amount: int | None
    external_ref: str | None


def credit_refund(body: object) -> CreditRefundInput:
    check = Checker(body, ("amount", "external_ref"))
    amount = check.integer("amount", low=1, high=MAX_AMOUNT)
    external_ref = check.text("external_ref")
    check.finish()
    return CreditRefundInput(amount, external_ref)
