"""Member-facing words for things services name by code: domain errors and
ledger entry kinds. Services speak English to logs and the API; members get
these translated texts instead of `DomainError.message`."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from webapp.i18n import format_number, localized
from webapp.services.errors import DomainError
from webapp.services.tiers.rules import BP

MISSING_IDENTIFIER = _l("Give an e-mail address or a mobile number (or both).")

# code -> (form field the error belongs to, or None for the whole form; message)
DOMAIN_ERRORS = {
    "already_registered": (
        None, _l("An account with this e-mail or mobile number already exists. Try logging in."),
    ),
    "weak_password": ("password", _l("Use a password of 8 to 128 characters.")),
    "missing_identifier": ("email", MISSING_IDENTIFIER),
    "invalid_mobile": ("mobile", _l("This is not a valid mobile number.")),
    "invalid_email": ("email", _l("This is not a valid e-mail address.")),
    "member_not_active": (None, _l("This account is not active. Please contact the club.")),
    "not_found": (None, _l("We could not find that.")),
    "insufficient_points": (None, _l("You do not have enough points for this.")),
    "insufficient_credit": (None, _l("You do not have enough store credit for this.")),
    "reward_unavailable": (None, _l("This reward is not available any more.")),
    "reward_locked": (None, _l("This reward is not open to you yet.")),
    "out_of_stock": (None, _l("Sorry, this reward has just run out.")),
    "reward_limit_reached": (None, _l("You already have as many of this reward as one member may.")),
    "challenge_not_open": (None, _l("This challenge is no longer open for joining.")),
    "challenge_not_eligible": (None, _l("This challenge is not open to your membership level or group.")),
    "raffle_closed": (None, _l("This raffle is closed for entries.")),
    "raffle_not_eligible": (None, _l("This raffle is not open to your membership level or group.")),
    "raffle_ticket_limit": ("quantity", _l("That is more tickets than one member may have in this raffle.")),
    "raffle_not_for_sale": (None, _l("Tickets for this raffle only come free, with coupons or your level.")),
    "raffle_coupon_not_applicable": (None, _l("This coupon cannot be used here any more.")),
    "raffle_invalid": ("quantity", _l("Between 1 and 10,000 tickets.")),
    "contest_not_open": (None, _l("This contest is not open now.")),
    "contest_already_played": (None, _l("You have already played this quiz: one attempt per member.")),
    "answer_invalid": (None, _l("That answer does not fit the question.")),
    "instant_win_closed": (None, _l("This game is not open for play now.")),
    "instant_win_not_eligible": (None, _l("This game is not open to your membership level or group.")),
    "instant_win_daily_limit": (None, _l("You have used today's plays of this game. Come back tomorrow!")),
}
GENERIC_ERROR = _l("That did not work. Please check what you entered and try again.")

KINDS = {
    "earn": _l("Points earned"),
    "spend": _l("Spent"),
    "refund": _l("Refunded"),
    "reversal": _l("Points taken back for a refund"),
    "expire": _l("Points expired"),
    "adjust": _l("Adjustment by the club"),
    "grant": _l("Store credit received"),
    "convert": _l("Points converted"),
}
# entries the system writes get words from their source; the English
# description services store there is for staff and logs
SOURCES = {
    "purchase": _l("Purchase"),
    "purchase_refund": _l("Returned purchase"),
    "fee_rebate": _l("Fee rebate for your tier"),
    "campaign": _l("A gift from the club"),
    "challenge": _l("Challenge completed"),
    "earn_rule": None,  # worded by rule_note_text
    "point_lot": None,
    "coupon": _l("Reward coupon"),
    "raffle": _l("Raffle"),
    "contest": _l("Contest"),
    "instant_win": _l("Spin & win"),
}
CURRENCIES = {"points": _l("Points"), "credit": _l("Store credit")}


def add_domain_error(form, exc: DomainError) -> None:
    """Show a service error on the form field it concerns, in the member's language."""
    field_name, message = DOMAIN_ERRORS.get(exc.code, (None, GENERIC_ERROR))
    field = getattr(form, field_name, None) if field_name else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def kind_label(kind: str) -> str:
    return KINDS.get(kind, _l("Other"))


def currency_label(currency: str) -> str:
    return CURRENCIES.get(currency, currency)


def entry_about(entry) -> str | None:
    """One line about where an entry came from: a translated word for entries
    from a known source, else what staff wrote as the description."""
    if entry.source_type == "earn_rule":
        return rule_note_text(getattr(entry, "rule_note", None))
    if entry.source_type in SOURCES:
        return SOURCES[entry.source_type]
    return entry.description


def rule_note_text(note) -> str:
    """"Weekend double points × Gold 1.5" in the member's language."""
    if note is None:  # an entry listed without its notes loaded
        return str(_l("Earn rule"))
    text = localized(note, "name")
    if note.tier_name_en and note.tier_multiplier_bp != BP:
        tier = localized(note, "tier_name")
        text += f" × {tier} {format_number(Decimal(note.tier_multiplier_bp) / BP)}"
    if note.perk_multiplier_bp != BP:
        text += f" × {format_number(Decimal(note.perk_multiplier_bp) / BP)}"
    return text
