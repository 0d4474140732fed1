"""Referral jobs: the daily expiry of referrals whose friend did not qualify in
time, and the monthly board's prize for the club month just ended (run daily
shortly after midnight club time; the first run of a month pays, later runs
find the month settled). Both are safe to run twice: see services."""

from __future__ import annotations

from webapp.club import club_of
from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services import referrals
from webapp.services.referrals import board as referral_board


def expire_referrals() -> int:
    """Daily: pending referrals past their qualifying window become expired."""
    with job_app():
        session = db.session
        try:
            expired = referrals.expire_overdue(session, utcnow())
            session.commit()
        except Exception:
            session.rollback()
            raise
        return expired


def award_referral_board_prizes() -> dict:
    """Daily: the previous club month's board prize, if the rules name one."""
    with job_app() as app:
        session = db.session
        tz, now = club_of(app.config).timezone, utcnow()
        month = referral_board.previous_month(now, tz)
        try:
            paid = referral_board.award_board_prizes(session, month, now=now, tz=tz)
            session.commit()
        except Exception:
            session.rollback()
            raise
        return {"month": month, "paid": [(p.member_id, p.place) for p in paid]}
