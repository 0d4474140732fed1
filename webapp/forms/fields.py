"""Fields and validators every blueprint's forms share: numbers typed with Persian,
Arabic or Latin digits and separators, kept exact (int, Decimal)."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import ValidationError

from webapp.i18n import ascii_digits

_INTEGER = re.compile(r"[+-]?\d{1,15}")
# Latin, Persian (U+066C) and Arabic thousands separators, spaces, and the
# typographic minus (U+2212) people paste from spreadsheets
_SEPARATORS = str.maketrans({",": "", "\u066c": "", "\u060c": "", " ": "", "\u2212": "-"})


def strip(value):
    return value.strip() if isinstance(value, str) else value


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


class LocalIntegerField(StringField):
    """A whole number typed with any digits, an optional sign and separators."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = ascii_digits(valuelist[0] or "").translate(_SEPARATORS).strip()
        if not text:
            return
        if not _INTEGER.fullmatch(text):
            raise ValueError(_l("Enter a whole number, for example 250 or -40."))
        self.data = int(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class Between:
    """`low <= value <= high` (and not zero unless allowed). A field that did not
    parse already carries its own error, so this one stays quiet then."""

    def __init__(self, low: int, high: int, *, zero: bool = True, message=None):
        self.low, self.high, self.zero, self.message = low, high, zero, message

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if value < self.low or value > self.high or (value == 0 and not self.zero):
            raise ValidationError(self.message)


_DECIMAL = re.compile(r"\d{1,6}(\.\d+)?")
# Latin point, Persian decimal separator (U+066B) and the slash Persian
# typists often use for it
_DECIMAL_POINTS = str.maketrans({"\u066b": ".", "/": ".", " ": ""})


class LocalDecimalField(StringField):
    """A decimal such as 1.5 or ۱٫۵, kept exact (Decimal, never float), with at
    most `places` digits after the point."""

    def __init__(self, label=None, validators=None, *, places: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = ascii_digits(valuelist[0] or "").translate(_DECIMAL_POINTS).strip()
        if not text:
            return
        if not _DECIMAL.fullmatch(text):
            raise ValueError(_l("Enter a number such as 1 or 1.5."))
        value = Decimal(text)
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueError(_l("Use at most %(places)d digits after the point.", places=self.places))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else decimal_text(self.data)


def decimal_text(value: Decimal) -> str:
    """1.50 → "1.5", 2.0 → "2" (no exponent)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class DecimalBetween:
    def __init__(self, low: Decimal, high: Decimal, message):
        self.low, self.high, self.message = low, high, message

    def __call__(self, form, field):
        if field.data is not None and not self.low <= field.data <= self.high:
            raise ValidationError(self.message)


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
