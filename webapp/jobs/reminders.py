"""Inbox reminders: points about to expire, 30 and 7 days ahead.

One message per member, per expiry day (in the club's time zone), per threshold;
the message key says exactly that, so a second run (or a retried job) inserts
nothing. Messages store numbers only and are worded when the member reads them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.club import club_of
from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import Member, PointLot, utcnow
from webapp.services import messages

REMINDER_DAYS = (30, 7)


def remind_expiring_points() -> int:
    """Daily: post the expiry reminders that are due. Returns how many were new."""
    with job_app() as app:
        session = db.session
        posted = post_expiry_reminders(session, now=utcnow(), tz=club_of(app.config).timezone)
        session.commit()
        return posted


def post_expiry_reminders(session: Session, *, now: datetime, tz: str) -> int:
    """Post the due `points_expiring` messages; never commits. One grouped read of
    the open lots expiring in the next 30 days, then batched inserts that skip
    keys already there (`messages.notify_many`)."""
    zone = ZoneInfo(tz)
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    rows = session.execute(
        select(PointLot.member_id, PointLot.expires_at, func.sum(PointLot.remaining))
        .join(Member, Member.id == PointLot.member_id)
        .where(
            PointLot.remaining > 0,
            PointLot.expires_at > now,
            PointLot.expires_at <= horizon,
            Member.status != "closed",
        )
        .group_by(PointLot.member_id, PointLot.expires_at)
        .order_by(PointLot.member_id, PointLot.expires_at)
    ).all()

    # (member, local day) -> [earliest expiry that day, points]
    days: dict[tuple[int, str], list] = {}
    for member_id, expires_at, points in rows:
        day = expires_at.astimezone(zone).date().isoformat()
        group = days.setdefault((member_id, day), [expires_at, 0])
        group[1] += int(points)

    reminders = []
    for (member_id, day), (expires_at, points) in days.items():
        # the nearest threshold the day has crossed: a lot first seen 5 days out
        # gets the 7-day reminder only, not both at once
        threshold = min(d for d in REMINDER_DAYS if expires_at <= now + timedelta(days=d))
        reminders.append({
            "member_id": member_id,
            "kind": "points_expiring",
            "params": {"points": points, "expires_at": expires_at.isoformat(), "days": threshold},
            "key": f"expiry-reminder:{member_id}:{day}:{threshold}",
        })

    return messages.notify_many(session, reminders, now=now)
