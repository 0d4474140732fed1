"""The club's time zone and the club-local day (history and inbox keys carry it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Tehran"


def club_timezone(tz: str | None = None) -> str:
    if tz:
        return tz
    if has_app_context():
        return current_app.config.get("VAFA_TIMEZONE") or DEFAULT_TZ
    return DEFAULT_TZ


def local_day(now: datetime, tz: str | None = None) -> str:
    return now.astimezone(ZoneInfo(club_timezone(tz))).date().isoformat()
