"""Odds as staff type them ("1 in 50", "2%", "۱ در ۵۰") and as members see them ("1 in N")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from games.instant_win import ODDS_SCALE

_ONE_IN = re.compile(r"^1\s*(?:in|/|:|در|از)\s*([0-9][0-9,]*(?:\.[0-9]+)?)$", re.IGNORECASE)
_PERCENT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*%$")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٪٫٬", "01234567890123456789%.,")


def parse_odds(text: str) -> int:
    """Parts per million from "1 in 50" (also "1/50", "۱ در ۵۰") or "2%" / "0.5 %".
    ValueError when it is neither, or not above 0 and at most 100%."""
    cleaned = " ".join((text or "").translate(_DIGITS).split())
    one_in, percent = _ONE_IN.match(cleaned), _PERCENT.match(cleaned)
    try:
        if one_in:
            n = Decimal(one_in.group(1).replace(",", ""))
            if n < 1:
                raise ValueError("1 in N needs N of at least 1")
            ppm = round(Fraction(ODDS_SCALE) / Fraction(n))
        elif percent:
            ppm = Fraction(Decimal(percent.group(1))) * (ODDS_SCALE // 100)
            if ppm.denominator != 1:
                raise ValueError("a percent has at most four decimals")
            ppm = int(ppm)
        else:
            raise ValueError("write the odds as 1 in N or as a percent")
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not 0 < ppm <= ODDS_SCALE:
        raise ValueError("the odds must be above 0 and at most 100%")
    return ppm


def one_in(odds_ppm: int) -> int:
    """The published "1 in N" (N rounded to a whole number)."""
    return max(1, round(Fraction(ODDS_SCALE, odds_ppm)))


def odds_text(odds_ppm: int) -> str:
    """How the staff form shows saved odds again (parses back to the same ppm
    when it was typed as "1 in N" with whole N, else as a percent)."""
    n = one_in(odds_ppm)
    if round(Fraction(ODDS_SCALE, n)) == odds_ppm:
        return f"1 in {n}"
    return f"{Decimal(odds_ppm) / (ODDS_SCALE // 100)}%".replace(".0000%", "%")

