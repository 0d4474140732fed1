"""Coupon codes: unguessable, unambiguous when read aloud or typed at a till,
and forgiving of how people type them back (lower case, spaces, Persian digits)."""

from __future__ import annotations

import re
import secrets

from webapp.i18n import ascii_digits

# no 0/O, 1/I/L or U/V look-alikes: 29 symbols, about 4.86 bits each
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
GROUPS, GROUP_SIZE = 3, 5  # 15 symbols ≈ 72.9 bits, read aloud as three groups of five
LENGTH = GROUPS * GROUP_SIZE
_NOT_SYMBOL = re.compile(r"[^0-9A-Z]")


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return grouped(raw)


def grouped(raw: str) -> str:
    return "-".join(raw[i:i + GROUP_SIZE] for i in range(0, len(raw), GROUP_SIZE))


def normalise(text: str | None) -> str | None:
    """The stored form of a typed code, or None when it cannot be one."""
    raw = _NOT_SYMBOL.sub("", ascii_digits(text or "").upper())
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return grouped(raw)
