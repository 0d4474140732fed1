"""Locale choice and the one place numbers, money and dates are formatted.

Persian gets Persian digits and Jalali dates (Babel formats `fa` numbers with
Latin digits and only knows the Gregorian calendar)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import jdatetime
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_currency, format_decimal, get_currency_precision
from flask import g, request
from flask_babel import get_translations
from flask_login import current_user

from webapp.club import current_club

LOCALES = ("fa", "en")
RTL_LOCALES = frozenset({"fa"})
LOCALE_COOKIE = "vafa_locale"

_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Persian thousands and decimal separators (Babel's fa data uses Latin ones)
_TO_PERSIAN_NUMBER = str.maketrans("0123456789,.", "۰۱۲۳۴۵۶۷۸۹٬٫")
# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits → ASCII, for input
_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

_CODE_BEFORE_DIGIT = re.compile(r"([A-Za-z]{2,})(?=\d)")

JALALI_MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip


def ascii_digits(text: str) -> str:
    return text.translate(_TO_ASCII)


def persian_digits(text: str) -> str:
    return text.translate(_TO_PERSIAN)


def select_locale() -> str:
    """The member's saved choice, else the browser's cookie, else the club default."""
    user = current_user
    # marketers outside the member base have no saved language: their cookie decides
    saved = getattr(user, "locale", None) if user and getattr(user, "is_authenticated", False) else None
    if saved in LOCALES:
        return saved
    if request:
        cookie = request.cookies.get(LOCALE_COOKIE)
        if cookie in LOCALES:
            return cookie
    return current_club().locale


def current_locale() -> str:
    if "vafa_locale" not in g:
        g.vafa_locale = select_locale()
    return g.vafa_locale


def text_direction(locale: str | None = None) -> str:
    return "rtl" if (locale or current_locale()) in RTL_LOCALES else "ltr"


def _localise_digits(text: str, locale: str) -> str:
    return text.translate(_TO_PERSIAN_NUMBER) if locale == "fa" else text


@lru_cache(maxsize=8)
def _babel(locale: str) -> Locale:
    # Babel parses a locale name on every call: a page formats dozens of numbers
    return Locale.parse(locale)


# CLDR's decimal pattern for these locales is #,##0.### with "," grouping (fa's
# Latin separators are made Persian below): for a whole number that is Python's
# own "{:,}", the same text at a twentieth of the cost (pinned by a test)
_GROUPED_IN_THREES = frozenset({"en", "fa"})


def format_number(value: int | Decimal, locale: str | None = None) -> str:
    locale = locale or current_locale()
    if type(value) is int and locale in _GROUPED_IN_THREES:
        return _localise_digits(f"{value:,}", locale)
    return _localise_digits(format_decimal(value, locale=_babel(locale)), locale)


def format_points(value: int, locale: str | None = None) -> str:
    return format_number(value, locale)


def format_money(amount: int, currency: str | None = None, locale: str | None = None) -> str:
    """`amount` is in the smallest unit of `currency` (rial for IRR)."""
    locale = locale or current_locale()
    currency = currency or current_club().currency
    digits = get_currency_precision(currency)
    value = Decimal(amount).scaleb(-digits) if digits else int(amount)
    if currency == "IRR" and locale == "fa":
        # CLDR's fa symbol for IRR is the Latin code; members expect the word
        return f"{format_number(value, locale)} ریال"
    text = format_currency(value, currency, locale=_babel(locale))
    # CLDR spaces a letter symbol off the number ("IRR 5,600"); Babel does not
    text = _CODE_BEFORE_DIGIT.sub("\\1\xa0", text, count=1)
    return _localise_digits(text, locale)


def _local(value: datetime | date, tz: str | None) -> datetime | date:
    if isinstance(value, datetime):
        zone = ZoneInfo(tz or current_club().timezone)
        return value.astimezone(zone)
    return value


def format_date(value: datetime | date | None, locale: str | None = None, tz: str | None = None) -> str:
    if value is None:
        return ""
    locale = locale or current_locale()
    local = _local(value, tz)
    return _day_text(local.date() if isinstance(local, datetime) else local, locale)


# a day's and a time of day's text are pure functions of their few inputs, and a
# page shows the same handful of days many times (calendar conversion and CLDR
# patterns are the costly part of a page's formatting)
@lru_cache(maxsize=4096)
def _day_text(day: date, locale: str) -> str:
    if locale == "fa":
        j = jdatetime.date.fromgregorian(date=day)
        return persian_digits(f"{j.day} {JALALI_MONTHS_FA[j.month - 1]} {j.year}")
    return babel_format_date(day, format="medium", locale=_babel(locale))


@lru_cache(maxsize=4096)
def _time_text(hour: int, minute: int, locale: str) -> str:
    return _localise_digits(babel_format_time(time(hour, minute), format="short", locale=_babel(locale)), locale)


def format_datetime(value: datetime | None, locale: str | None = None, tz: str | None = None) -> str:
    if value is None:
        return ""
    locale = locale or current_locale()
    local = _local(value, tz)
    day, clock = _day_text(local.date(), locale), _time_text(local.hour, local.minute, locale)
    return f"{day}، {clock}" if locale == "fa" else f"{day}, {clock}"


def localized(obj, field: str, locale: str | None = None):
    """`obj.<field>_fa` for a Persian reader, else `obj.<field>_en`: texts staff write
    in both languages (names, descriptions, questions). No fallback to the other
    language, as before; works on rows, dataclasses, mapped classes (columns) and
    dicts (a missing key is None, as Jinja's lookup was falsy)."""
    name = localized_key(field, locale)
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name)


def localized_key(field: str, locale: str | None = None) -> str:
    """`<field>_fa` or `<field>_en`, by the reader's language."""
    return f"{field}_fa" if (locale or current_locale()) == "fa" else f"{field}_en"


def iso_date(value: datetime | date | None) -> str:
    """Machine-readable date for <time datetime=...>."""
    if value is None:
        return ""
    return value.isoformat()


def request_translations():
    """The request's translations, looked up once: Flask-Babel's lookup walks
    `g`, the domain and the locale on each of a page's fifty-odd strings. Kept
    where `flask_babel.refresh` (a language switch mid-request) forgets it."""
    if not g:
        return get_translations()
    holder = g.setdefault("_flask_babel", SimpleNamespace())
    found = getattr(holder, "babel_translations", None)
    if found is None:
        found = holder.babel_translations = get_translations()
    return found


def init_app(app) -> None:
    # after Flask-Babel's own: the templates' _() and ngettext() use the request's translations
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        number=format_number,
        points=format_points,
        money=format_money,
        date=format_date,
        datetime=format_datetime,
        isodate=iso_date,
        localized=localized,
    )
    app.jinja_env.globals["localized"] = localized

    @app.context_processor
    def _locale_context():
        locale = current_locale()
        return {"locale": locale, "text_dir": text_direction(locale), "LOCALES": LOCALES}
