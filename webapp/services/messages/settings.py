"""The owner's messaging settings (`/admin/messages/settings`): quiet hours and the
daily marketing cap (`policy.MessagingSettings`); fields this page does not
show are kept as they are."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.services.errors import ProblemsInvalid
from webapp.services.members import audit
from webapp.services.messages import policy
from webapp.services.settings import store_setting

HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_CAP = 100


class MessagingSettingsInvalid(ProblemsInvalid):
    """These messaging settings cannot be used."""


def save_messaging_settings(session: Session, *, quiet_start: str, quiet_end: str, daily_marketing_cap: int,
                            actor: audit.Actor, now: datetime) -> policy.MessagingSettings:
    problems = {}
    for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if not HH_MM.match(value or ""):
            problems[name] = "time_format"
    if not 0 <= daily_marketing_cap <= MAX_CAP:
        problems["daily_marketing_cap"] = "cap_range"
    if problems:
        raise MessagingSettingsInvalid(problems)
    old = policy.load_messaging_settings(session)
    new = replace(old, quiet_start=quiet_start, quiet_end=quiet_end, daily_marketing_cap=daily_marketing_cap)
    store_setting(session, policy.SETTING, old, new, actor=actor, now=now)
    return new
