"""Days typed in either calendar (Jalali when the year is before 1700), in any
digits, and the club-local day boundaries the forms turn them into."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import jdatetime
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from webapp.i18n import ascii_digits

ENTER_DAY = _l("Enter a date as year-month-day, for example 1405-10-30 (Jalali) or 2027-01-20.")


class DayField(StringField):
    """A day typed year-month-day in any digits (Jalali when the year is before
    1700), or blank (None). What was typed is shown back as typed."""

    bad_day = ENTER_DAY

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        try:
            self.data = parse_day(text)
        except ValueError as exc:
            raise ValueError(self.bad_day) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else (self.data or "")


def parse_day(text: str) -> date:
    """year-month-day in any digits; years before 1700 are Jalali (Solar Hijri)."""
    parts = re.split(r"[-/.]", ascii_digits(text).strip())
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    year, month, day = (int(p) for p in parts)
    if year < 1700:
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)


def day_text(day: date, locale: str = "fa") -> str:
    """A day as a form shows it back: Jalali year-month-day in Persian, ISO otherwise."""
    if locale == "fa":
        j = jdatetime.date.fromgregorian(date=day)
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    return day.isoformat()


def day_start(day: date, tz: str) -> datetime:
    """Local midnight of `day`, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def local_day(when: datetime, tz: str) -> date:
    return when.astimezone(ZoneInfo(tz)).date()
