"""Demo data for a first run: staff of each role and three members with history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.demo.contests import load_demo_contests
from webapp.demo.instant_win import load_demo_instant_win
from webapp.demo.marketers import load_demo_marketers
from webapp.demo.offers import load_demo_offers
from webapp.demo.raffles import load_demo_raffles
from webapp.demo.referrals import invite_demo_friend
from webapp.models import Member, Staff
from webapp.services import ledger, tiers
from webapp.services.ledger.purchases import ItemLine, record_purchase, refund_purchase
from webapp.services.ledger.wallet import WalletSettings, load_wallet_settings, save_wallet_settings
from webapp.services.members import audit
from webapp.services.members.accounts import Identifiers, create_member
from webapp.services.members.staff import create_staff
from webapp.services.settings import load_earn_settings

DEMO_PASSWORD = "vafa-demo-2026"  # noqa: S105  printed on screen for the demo; not a secret

STAFF = [
    ("owner@demo.vafa", "owner", "Owner"),
    ("marketer@demo.vafa", "marketer", "Marketer"),
    ("operator@demo.vafa", "operator", "Operator"),
    ("auditor@demo.vafa", "auditor", "Auditor"),
]
MEMBERS = [
    ("sara@demo.vafa", "09121234567", "سارا", "fa"),
    ("reza@demo.vafa", "09351234567", "رضا", "fa"),
    ("anna@demo.vafa", "09191234567", "Anna", "en"),
]


def load_demo_data(session: Session, *, now: datetime, force: bool = False) -> list[str] | None:
    """Create the demo club; None if the club already has people in it."""
    has_people = session.scalar(select(func.count()).select_from(Staff)) or session.scalar(
        select(func.count()).select_from(Member)
    )
    if has_people and not force:
        return None
    logins = _demo_staff(session, now=now)
    _demo_club_settings(session, now=now)
    load_demo_offers(session, now=now)  # before the purchases: the rules apply to them
    load_demo_contests(session, now=now)
    load_demo_instant_win(session, now=now)
    settings = load_earn_settings(session)
    for n, (email, mobile, name, locale) in enumerate(MEMBERS):
        if session.scalar(select(Member.id).where(Member.email == email)) is None:
            _demo_member(session, n, email, mobile, name, locale, settings=settings, now=now)
        logins.append(f"member {email} / {DEMO_PASSWORD}")
    tiers.evaluate_all(session, now=now)
    load_demo_raffles(session, now=now)
    logins += load_demo_marketers(session, now=now, password=DEMO_PASSWORD)
    session.flush()
    return logins


def _demo_staff(session: Session, *, now: datetime) -> list[str]:
    logins = []
    for email, role, name in STAFF:
        if session.scalar(select(Staff.id).where(Staff.email == email)) is None:
            create_staff(session, email=email, password=DEMO_PASSWORD, role=role,
                         display_name=name, actor=audit.CLI, now=now)
        logins.append(f"staff  {role:<8} {email} / {DEMO_PASSWORD}  → /admin")
    return logins


def _demo_club_settings(session: Session, *, now: datetime) -> None:
    if tiers.load_program(session) is None:
        # before the purchases, so each member climbs as they buy (history included)
        tiers.save_program(session, tiers.default_program(), actor=audit.CLI,
                           now=now - timedelta(days=91))
    if not load_wallet_settings(session).enabled:
        # 100 points → 10,000 rials of store credit, so the wallet can be tried at once
        save_wallet_settings(
            session, WalletSettings(enabled=True, points_per_step=100, credit_per_step=10_000,
                                    min_points=100, daily_cap_points=5_000),
            actor=audit.CLI, now=now,
        )


def _demo_member(session: Session, n: int, email: str, mobile: str, name: str, locale: str, *,
                 settings, now: datetime) -> None:
    """The n-th demo member: joined 90 days ago, a purchase every week or so since."""
    member = create_member(session, ids=Identifiers(email, _e164(mobile)), password=DEMO_PASSWORD,
                           display_name=name, locale=locale, now=now - timedelta(days=90))
    if n == 1:  # Sara invited Reza: his first purchase pays them both
        invite_demo_friend(session, member, referrer_email=MEMBERS[0][0], now=now - timedelta(days=90))
    visits = 6 + 3 * n
    for week in range(visits):
        when = now - timedelta(days=85 - week * (80 // visits))  # all in the past
        amount = (250_000 + 130_000 * ((week * 7 + n) % 5)) * 10
        record_purchase(
            session, member_id=member.id, amount=amount, currency="IRR", occurred_at=when,
            now=when, external_ref=f"demo-{member.id}-{week}", channel="store",
            items=[ItemLine("SKU-COFFEE", "coffee", 2, amount // 4),
                   ItemLine("SKU-CAKE", "bakery", 1, amount // 2)],
            settings=settings,
        )
    ledger.award_points(session, member.id, 500, kind="adjust", key=f"demo:{member.id}:welcome",
                        now=now - timedelta(days=89), description="Welcome gift",
                        created_by="system", expires_at=now + timedelta(days=20))
    if n == 2:  # a status match: platinum for two months, then her own metric decides
        tiers.set_override(session, member_id=member.id, tier_code="platinum",
                           until=now + timedelta(days=60), reason="Status match from a partner club",
                           actor=audit.CLI, now=now - timedelta(days=1))
    if n == 1:
        refund_purchase(session, purchase_id=_last_purchase_id(session, member.id), now=now,
                        amount=None, reason="Returned item")
        ledger.grant_credit(session, member.id, 50_000, key=f"demo:{member.id}:credit",
                            now=now, description="Apology credit", created_by="system")


def _e164(mobile: str) -> str:
    from webapp.services.members.identity import normalise_mobile

    return normalise_mobile(mobile)


def _last_purchase_id(session: Session, member_id: int) -> int:
    from webapp.models import Purchase

    return session.scalar(select(func.max(Purchase.id)).where(Purchase.member_id == member_id))
