"""Birthday points: once a day, the `birthday` rules for members whose birthday
is today in the club's time zone. The ledger key `birthday:{member}:{year}` (and
the rule award's unique event key) make a second run, or a retried job, award
nothing more; the birthday message shares the key, so it is written once too."""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import extract, or_, select
from sqlalchemy.orm import Session

from webapp.club import club_of
from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import Member, utcnow
from webapp.services import messages
from webapp.services.offers import checkin, earn_rules


def award_birthdays() -> int:
    """Daily: award today's birthdays. Returns how many members earned points."""
    with job_app() as app:
        session = db.session
        awarded = award_birthdays_on(session, now=utcnow(), tz=club_of(app.config).timezone)
        session.commit()
        return awarded


def award_birthdays_on(session: Session, *, now: datetime, tz: str) -> int:
    if not earn_rules.live_rules(session, "birthday"):
        return 0
    today = checkin.local_today(now, tz)
    same_day = (extract("month", Member.birthday) == today.month) & (
        extract("day", Member.birthday) == today.day)
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        # 29 February birthdays are celebrated on the 28th in common years
        same_day = or_(same_day, (extract("month", Member.birthday) == 2)
                       & (extract("day", Member.birthday) == 29))
    ids = session.scalars(select(Member.id).where(Member.status == "active", same_day)
                          .order_by(Member.id))
    awarded = 0
    for member_id in list(ids):
        key = f"birthday:{member_id}:{today.year}"
        awards = earn_rules.award_for_event(session, member_id=member_id, trigger="birthday",
                                            event_key=key, now=now, tz=tz)
        if awards:
            awarded += 1
            messages.notify(session, member_id=member_id, kind="birthday", key=key, now=now,
                            params={"points": sum(a.points for a in awards), "path": "/me/activity"})
    return awarded
