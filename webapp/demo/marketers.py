"""The demo club's marketer (affiliate): one person outside the member base
with an Instagram campaign — a few link opens and a friend who joined through
it and bought, so the dashboard has figures. Made through the same services
staff and visitors use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Marketer
from webapp.services import referrals
from webapp.services.ledger import purchases
from webapp.services.members import accounts, audit
from webapp.services.referrals import marketers
from webapp.services.referrals.marketers import MarketerTerms

EMAIL = "partner@demo.vafa"
CODE = "VAFA26"
CAMPAIGN = "instagram"


def load_demo_marketers(session: Session, *, now: datetime, password: str) -> list[str]:
    """Once (does nothing when the demo marketer exists); returns its login line."""
    login = [f"marketer (affiliate) {EMAIL} / {password}  → /partner"]
    if session.scalar(select(Marketer.id).where(Marketer.email == EMAIL)) is not None:
        return login
    marketer = marketers.create_marketer(
        session, MarketerTerms("نیما · صفحهٔ اینستاگرام", commission_amount=50_000, commission_bp=200,
                               note="Demo marketer"),
        email=EMAIL, password=password, code=CODE, actor=audit.CLI, now=now - timedelta(days=20))
    phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    for n, tag in enumerate((CAMPAIGN, CAMPAIGN, CAMPAIGN, CAMPAIGN, None)):
        link = referrals.resolve(session, CODE, tag)
        referrals.record_open(session, link, visitor=f"demo-visitor-{n}", user_agent=phone,
                              now=now - timedelta(days=15 - n))
    joined_at = now - timedelta(days=10)
    friend = accounts.create_member(session, ids=accounts.normalise_identifiers("mina@demo.vafa", None),
                                   password=password, display_name="مینا", locale="fa", now=joined_at)
    referrals.on_join(session, friend, referrals.resolve(session, CODE, CAMPAIGN), now=joined_at,
                      visitor="demo-visitor-0")
    bought_at = joined_at + timedelta(days=2)
    purchases.record_purchase(session, member_id=friend.id, amount=1_200_000, currency="IRR", occurred_at=bought_at,
                              now=bought_at, external_ref=f"demo-marketer-{marketer.id}", channel="store")
    return login
