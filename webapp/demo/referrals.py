"""Demo referrals: a friend who joined through a member's link, with a few opens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Member
from webapp.services import referrals


def invite_demo_friend(session: Session, friend: Member, *, referrer_email: str, now: datetime) -> None:
    code = session.scalar(select(Member.referral_code).where(Member.email == referrer_email))
    link = referrals.resolve(session, code)
    if link is None:
        return
    for n in range(4):  # four phones opened the link before one of them joined
        referrals.record_open(session, link, visitor=f"demo-visitor-{n}", now=now - timedelta(hours=n + 1),
                              user_agent="Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36")
    referrals.on_join(session, friend, link, now=now, visitor="demo-visitor-0")
