"""Whether, and when, a message may go out: consents, quiet hours in the club's
time zone, and the daily cap on marketing. Pure decisions over plain values;
`delivery` reads the member and the counts they need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from webapp.models import Member
from webapp.services.settings import load_setting

SETTING = "messaging"
# the member's own agreement to hear from the club on that channel
CONSENT = {"email": "consent_email", "sms": "consent_sms", "push": "consent_push"}
QUIET_CHANNELS = ("sms", "push")  # an e-mail waits in the mailbox; a phone buzzes
QUIET_CATEGORIES = ("notice", "marketing")
CONSENTED = ("notice", "marketing")


@dataclass(frozen=True)
class MessagingSettings:
    """Quiet hours as "HH:MM" club-local times (start after end wraps midnight;
    equal: none) and marketing messages per member per club day (0: no cap);
    `track_opens`/`track_clicks`: e-mail carries an open pixel, and links in
    e-mail and push go through a signed redirect that notes the click."""

    quiet_start: str = "22:00"
    quiet_end: str = "08:00"
    daily_marketing_cap: int = 2
    track_opens: bool = True
    track_clicks: bool = True

    def window(self) -> tuple[time, time]:
        return time.fromisoformat(self.quiet_start), time.fromisoformat(self.quiet_end)


def load_messaging_settings(session: Session) -> MessagingSettings:
    return load_setting(session, SETTING, MessagingSettings)


@dataclass(frozen=True)
class Decision:
    """send, or suppress with a reason, or wait until `until`."""

    action: str  # "send" | "suppress" | "wait"
    reason: str | None = None
    until: datetime | None = None


SEND = Decision("send")


def suppressed(reason: str) -> Decision:
    return Decision("suppress", reason)


def decide(*, channel: str, category: str, member: Member, address: str | None,
           settings: MessagingSettings, now: datetime, tz: str, marketing_today: int) -> Decision:
    """The rules in the order a member would ask about them."""
    if member.status != "active":
        return suppressed("inactive")
    if not address:
        return suppressed("no_address")
    # consents are to hearing from the club; the answer to the member's own act
    # (a code, a receipt, a reply) goes to the address they gave
    if category in CONSENTED and channel in CONSENT and not getattr(member, CONSENT[channel]):
        return suppressed("no_consent")
    if category == "marketing" and 0 < settings.daily_marketing_cap <= marketing_today:
        return suppressed("daily_cap")
    if channel in QUIET_CHANNELS and category in QUIET_CATEGORIES:
        until = quiet_until(now, tz, *settings.window())
        if until is not None:
            return Decision("wait", "quiet_hours", until)
    return SEND


def quiet_until(now: datetime, tz: str, start: time, end: time) -> datetime | None:
    """The end of the quiet hours `now` falls in, or None outside them."""
    if start == end:
        return None
    local = now.astimezone(ZoneInfo(tz))
    clock = local.time().replace(tzinfo=None)
    wraps = start > end
    inside = (clock >= start or clock < end) if wraps else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if wraps and clock >= start else local.date()
    return datetime.combine(day, end, tzinfo=ZoneInfo(tz))


def club_day_start(now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    return datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(tz))
