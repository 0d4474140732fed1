"""Normalising the ways a member is identified: mobile numbers, e-mail, codes."""

from __future__ import annotations

import secrets

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from webapp.i18n import ascii_digits
from webapp.services.errors import DomainError

# no 0/O, 1/I/L: codes are read aloud and typed from screenshots
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class InvalidMobile(DomainError):
    """This is not a valid mobile number."""

    code = "invalid_mobile"


class InvalidEmail(DomainError):
    """This is not a valid e-mail address."""

    code = "invalid_email"


def normalise_mobile(raw: str, region: str = "IR") -> str:
    """E.164 form of a mobile number typed any usual way: Persian or Arabic
    digits, spaces, dashes, a leading 0, +98 or 0098."""
    text = ascii_digits(raw or "").strip()
    text = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobile() from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidMobile()
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidMobile("This is not a mobile number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail() from exc
    return result.normalized.lower()


def looks_like_email(text: str) -> bool:
    return "@" in (text or "")


def new_code(length: int = 8) -> str:
    """Unguessable short code (31^8 ≈ 8.5e11 possibilities)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
