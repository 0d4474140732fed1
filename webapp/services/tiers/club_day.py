"""The club's time zone and the club-local day (history and inbox keys carry it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from webapp.club import current_club


def club_timezone(tz: str | None = None) -> str:
    """`tz` when the caller passed one, else the time zone of the club being served."""
    return tz or current_club().timezone


def local_day(now: datetime, tz: str | None = None) -> str:
    return now.astimezone(ZoneInfo(club_timezone(tz))).date().isoformat()
