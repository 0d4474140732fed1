"""The referrals domain. Here: the referral record and its qualification. Beside
it: `rules` (the club's referral terms), `fraud` (checks that hold a referral for
review), `stats`/`report`/`board` (funnels, the staff report, the monthly board),
`shares` (share-button counts), and `marketers` with their own
`marketer_ledger` (affiliates paid a commission).

A friend who joins through a link gets a `Referral` carrying the terms of that
day. It qualifies on joining or on the friend's first purchase of at least the
minimum within the window (per the terms); then the friend, the referrer (up to
the monthly cap) and the marketer are paid once, under keys `referral:<id>:…`.
A refund that takes the qualifying purchase under the minimum takes it all back
through the ledger, never below zero. A fraud check that fires holds the
referral for staff, who approve or reject it (audited)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crawlerdetect import CrawlerDetect
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import (
    LedgerEntry,
    Marketer,
    Member,
    MemberDevice,
    Purchase,
    Referral,
    ReferralOpen,
    RuleAward,
)
from webapp.services import ledger, messages, tiers
from webapp.services.errors import Conflict, NotFound
from webapp.services.members import audit
from webapp.services.offers import earn_rules
from webapp.services.play import prizes
from webapp.services.referrals import fraud as referral_fraud
from webapp.services.referrals import marketer_ledger, stats, tally
from webapp.services.referrals.rules import load_settings

CAMPAIGN_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
OPEN_STATUSES = ("pending", "held")
SAME_VISIT = timedelta(hours=12)


class ReferralNotHeld(Conflict):
    """Only a referral held for review can be approved or rejected."""

    code = "referral_not_held"


@dataclass(frozen=True)
class Link:
    """Who a link credits: a member, or a marketer and their campaign tag."""

    code: str
    name: str  # who invites, as the friend sees it
    referrer_id: int | None = None
    marketer_id: int | None = None
    campaign: str | None = None

    @property
    def key(self) -> str:
        if self.referrer_id is not None:
            return f"m{self.referrer_id}"
        return f"k{self.marketer_id}:{self.campaign or ''}"


def clean_campaign(raw: str | None) -> str | None:
    tag = (raw or "").strip().lower()
    return tag if CAMPAIGN_RE.match(tag) else None


def resolve(session: Session, code: str | None, campaign: str | None = None) -> Link | None:
    """The active member or marketer behind an invite code (codes are typed from
    screenshots, so case does not matter)."""
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    member = session.scalar(select(Member).where(Member.referral_code == code))
    if member is not None:
        return Link(code, member.display_name, referrer_id=member.id) if member.is_active else None
    marketer = session.scalar(select(Marketer).where(Marketer.code == code))
    if marketer is not None and marketer.is_active:
        return Link(code, marketer.name, marketer_id=marketer.id, campaign=clean_campaign(campaign))
    return None


def digest(value: str, secret: str) -> str:
    """Device cookies and addresses are kept only as keyed hashes."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


# one detector per process: it compiles its patterns and caches answers per
# User-Agent (0.5 ms a request when built each time); is_crawler's result is
# local, so threads can share it
_CRAWLERS = CrawlerDetect()


def is_bot(user_agent: str | None) -> bool:
    """Link-preview fetchers (messengers, social networks) and crawlers."""
    return not user_agent or _CRAWLERS.is_crawler(user_agent)


def record_open(session: Session, link: Link, *, visitor: str, user_agent: str | None, now: datetime,
                viewer_id: int | None = None) -> bool:
    """Count the open once per device and link; bots and the owner's own opens
    do not count. Returns whether it counted."""
    if is_bot(user_agent) or (viewer_id is not None and viewer_id == link.referrer_id):
        return False
    inserted = session.execute(
        insert_ignoring_duplicates(session, ReferralOpen)
        .values(link=link.key, referrer_id=link.referrer_id, marketer_id=link.marketer_id,
                campaign=link.campaign, visitor=visitor, created_at=now)
        .on_conflict_do_nothing(index_elements=[ReferralOpen.link, ReferralOpen.visitor])
        .returning(ReferralOpen.id)
    ).scalar_one_or_none()
    if inserted is not None:
        tally.add(session, link.referrer_id, opens=1)
    return inserted is not None


def remember_device(session: Session, member_id: int, visitor: str, now: datetime) -> None:
    session.execute(
        insert_ignoring_duplicates(session, MemberDevice)
        .values(member_id=member_id, visitor=visitor, created_at=now)
        .on_conflict_do_nothing(index_elements=[MemberDevice.member_id, MemberDevice.visitor])
    )


def club_month(now: datetime, tz: str | None = None) -> str:
    return now.astimezone(ZoneInfo(tiers.club_timezone(tz))).strftime("%Y-%m")


def _serialise(session: Session, name: str) -> None:
    """A transaction-long lock on a name (PostgreSQL; SQLite's writes are serial)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})


def _lock_owner(session: Session, link: Link) -> None:
    if link.referrer_id is not None:
        ledger.lock_member(session, link.referrer_id)
    else:
        session.execute(select(Marketer.id).where(Marketer.id == link.marketer_id).with_for_update())


# -- joining ------------------------------------------------------------------


def on_join(session: Session, friend: Member, link: Link | None, *, now: datetime, visitor: str | None = None,
            ip_hash: str | None = None) -> Referral | None:
    """Record who brought the new member (when a link did) and run the fraud
    checks; a clean sign-up qualifies at once if the terms say so."""
    if visitor:
        remember_device(session, friend.id, visitor, now)
    if link is None or link.referrer_id == friend.id:
        return None
    settings = load_settings(session)
    if not settings.enabled:
        return None
    _lock_owner(session, link)  # sign-ups through one link are checked one at a time
    if ip_hash:
        _serialise(session, f"referral-ip:{ip_hash}")
    flags = referral_fraud.check(session, friend=friend, link=link, visitor=visitor, ip_hash=ip_hash,
                                 now=now, settings=settings)
    terms = settings.terms()
    referral = Referral(
        friend_id=friend.id, referrer_id=link.referrer_id, marketer_id=link.marketer_id,
        campaign=link.campaign, status="held" if flags else "pending", flags=flags, visitor=visitor,
        ip_hash=ip_hash, terms=terms, created_at=now,
        qualify_by=now + timedelta(days=terms["qualify_days"]) if terms["qualify_on"] == "purchase" else None,
    )
    session.add(referral)
    friend.referred_by_id = link.referrer_id
    session.flush()
    tally.add(session, link.referrer_id, signups=1, **{referral.status: 1})
    if not flags and terms["qualify_on"] == "signup":
        qualify(session, referral, now=now)
    return referral


# -- qualifying and paying ----------------------------------------------------


def open_referral_of(friend_id):
    """EXISTS: a referral still waits on this friend (to ride along with the
    query that locks the friend's row, see `purchases._lock_buyer`)."""
    return (select(Referral.id).where(Referral.friend_id == friend_id, Referral.status.in_(OPEN_STATUSES),
                                      Referral.qualifying_purchase_id.is_(None)).exists())


def on_purchase(session: Session, purchase: Purchase, *, now: datetime) -> Referral | None:
    """The friend's purchase may qualify their referral (the friend's row is
    locked by the caller, so their purchases arrive here one at a time)."""
    referral = session.scalar(
        select(Referral).where(Referral.friend_id == purchase.member_id, Referral.status.in_(OPEN_STATUSES),
                               Referral.qualifying_purchase_id.is_(None))
    )
    if referral is None or not _qualifies(referral, purchase):
        return None
    if referral.status == "held":
        referral.qualifying_purchase_id = purchase.id  # staff decide; approval pays
        session.flush()
        return referral
    qualify(session, referral, now=now, purchase=purchase)
    return referral


def _qualifies(referral: Referral, purchase: Purchase) -> bool:
    terms = referral.terms
    if terms.get("qualify_on") != "purchase":
        return False
    if purchase.amount - purchase.refunded_amount < max(1, terms.get("min_purchase", 0)):
        return False
    # a till often rings up the sale it enrolled the friend for a little earlier
    earliest = referral.created_at - SAME_VISIT
    return earliest <= purchase.occurred_at <= (referral.qualify_by or purchase.occurred_at)


def qualify(session: Session, referral: Referral, *, now: datetime, purchase: Purchase | None = None,
            from_status: str = "pending") -> bool:
    """Mark the referral qualified once (a guarded UPDATE) and pay everyone."""
    month = club_month(now)
    won = session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == from_status)
        .values(status="qualified", qualified_at=now, qualified_month=month,
                qualifying_purchase_id=purchase.id if purchase else referral.qualifying_purchase_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(referral)
    if won != 1:
        return False
    tally.moved(session, referral.referrer_id, from_status, "qualified")
    stats.clear_standings()
    terms, key = referral.terms, f"referral:{referral.id}"
    source = ("referral", referral.id)
    friend_gift = _give(session, referral.friend_id, terms, "friend", key=f"{key}:friend", now=now,
                        source=source, description="Welcome gift: joined through an invitation")
    referrer_gift = None
    if referral.referrer_id is not None:
        referrer_gift = _pay_referrer(session, referral, terms, month=month, now=now, purchase=purchase)
    if referral.marketer_id is not None:
        _pay_commission(session, referral, now=now, purchase=purchase)
    friend = session.get(Member, referral.friend_id)
    if friend_gift is not None:
        messages.notify(session, member_id=referral.friend_id, kind="referral_welcome", key=f"{key}:welcome",
                           now=now, params=_gift_params(friend_gift))
    if referral.referrer_id is not None:
        messages.notify(session, member_id=referral.referrer_id, kind="referral_qualified",
                           key=f"{key}:qualified", now=now,
                           params={"friend": friend.display_name or "", "capped": not referral.referrer_rewarded,
                                   **_gift_params(referrer_gift)})
    session.flush()
    return True


def _give(session, member_id: int, terms: dict, side: str, **kwargs) -> prizes.Given | None:
    kind = terms.get(f"{side}_kind", "none")
    if kind == "none" or not session.get(Member, member_id).is_active:
        return None
    given = prizes.give(session, member_id=member_id, kind=kind, amount=terms.get(f"{side}_amount") or 0,
                        reward_id=terms.get(f"{side}_reward_id"), **kwargs)
    if kind == "points":
        tiers.on_points_earned(session, member_id, kind="earn", now=kwargs["now"])
    return given


def _gift_params(given: prizes.Given | None) -> dict:
    if given is None:
        return {"kind": "none", "amount": 0}
    return {"kind": given.kind, "amount": given.amount, "issued": given.issued}


def _pay_referrer(session: Session, referral: Referral, terms: dict, *, month: str, now: datetime,
                  purchase: Purchase | None) -> prizes.Given | None:
    """Up to the monthly cap, counted under the referrer's row lock so that
    friends qualifying at the same moment cannot all slip under it."""
    referrer = ledger.lock_member(session, referral.referrer_id)
    if not referrer.is_active:
        return None
    cap = load_settings(session).monthly_cap
    if cap and _rewarded_in(session, referrer.id, month) >= cap:
        return None
    referral.referrer_rewarded = True
    session.flush()
    key = f"referral:{referral.id}"
    given = _give(session, referrer.id, terms, "referrer", key=f"{key}:referrer", now=now,
                  source=("referral", referral.id), description="A friend you invited qualified")
    if given is not None and given.kind in tally.EARNED and not given.replayed:
        tally.earned(session, referrer.id, given.kind, given.amount)
    earn_rules.award_for_event(session, member_id=referrer.id, trigger="referral_qualified", event_key=key,
                               now=now, context={"amount": purchase.amount if purchase else 0})
    return given


def _rewarded_in(session: Session, referrer_id: int, month: str) -> int:
    return session.scalar(
        select(func.count(Referral.id)).where(Referral.referrer_id == referrer_id,
                                              Referral.qualified_month == month,
                                              Referral.status == "qualified", Referral.referrer_rewarded)
    )


def commission_for(marketer: Marketer, purchase: Purchase | None) -> int:
    share = (purchase.amount * marketer.commission_bp // 10_000) if purchase else 0
    return marketer.commission_amount + share


def _pay_commission(session: Session, referral: Referral, *, now: datetime, purchase: Purchase | None) -> None:
    marketer = session.get(Marketer, referral.marketer_id)
    amount = commission_for(marketer, purchase)
    if amount and marketer.is_active:
        marketer_ledger.post(session, marketer_id=marketer.id, amount=amount, kind="commission",
                             key=f"referral:{referral.id}:commission", now=now, referral_id=referral.id)


# -- refunds ------------------------------------------------------------------


def on_refund(session: Session, purchase: Purchase, *, now: datetime) -> Referral | None:
    """A refund that takes the qualifying purchase under the minimum undoes the
    referral: every side's payment is taken back (never below zero)."""
    referral = session.scalar(select(Referral).where(Referral.qualifying_purchase_id == purchase.id))
    if referral is None or _qualifies(referral, purchase):
        return None
    if referral.status == "held":  # nothing paid yet: approval must not pay for it
        referral.qualifying_purchase_id = None
        session.flush()
        return referral
    won = session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == "qualified")
        .values(status="reversed", reversed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(referral)
    if won != 1:
        return None
    tally.moved(session, referral.referrer_id, "qualified", "reversed")
    stats.clear_standings()
    key, source = f"referral:{referral.id}", ("referral", referral.id)
    about = {"now": now, "source": source, "description": f"Refund of the purchase that qualified referral {referral.id}"}
    prizes.take_back(session, member_id=referral.friend_id, key=f"{key}:friend", **about)
    if referral.referrer_id is not None:
        _take_back_from_referrer(session, referral.referrer_id, f"{key}:referrer", about)
        for rule_key in session.scalars(
            select(LedgerEntry.idempotency_key).join(RuleAward, RuleAward.entry_id == LedgerEntry.id)
            .where(RuleAward.event_key == key)
        ):
            prizes.take_back(session, member_id=referral.referrer_id, key=rule_key, **about)
        messages.notify(session, member_id=referral.referrer_id, kind="referral_reversed",
                           key=f"{key}:reversed", now=now, params={})
    if referral.marketer_id is not None:
        commission = marketer_ledger.entry_by_key(session, f"{key}:commission")
        if commission is not None:
            marketer_ledger.debit_up_to(session, marketer_id=referral.marketer_id, amount=commission.amount,
                                        key=f"{key}:commission:reversal", now=now, kind="reversal",
                                        referral_id=referral.id)
    session.flush()
    return referral


def _take_back_from_referrer(session: Session, referrer_id: int, key: str, about: dict) -> None:
    """What was given under `key` comes back, up to the balance: the funnel's
    earnings go down by what was actually taken."""
    given = ledger.entry_by_key(session, key)
    already = given is not None and ledger.entry_by_key(session, f"{key}:reversal") is not None
    shortfall = prizes.take_back(session, member_id=referrer_id, key=key, **about)
    if given is not None and not already and given.currency in tally.EARNED:
        tally.earned(session, referrer_id, given.currency, -(given.amount - shortfall))


# -- staff review -------------------------------------------------------------


def _held(session: Session, referral_id: int) -> Referral:
    friend_id = session.scalar(select(Referral.friend_id).where(Referral.id == referral_id))
    if friend_id is None:
        raise NotFound("Referral not found.", referral_id=referral_id)
    # the friend first, as their purchases do (member, then referral): no deadlock
    ledger.lock_member(session, friend_id)
    referral = session.scalar(select(Referral).where(Referral.id == referral_id).with_for_update()
                              .execution_options(populate_existing=True))
    if referral.status != "held":
        raise ReferralNotHeld(status=referral.status)
    return referral


def approve(session: Session, referral_id: int, *, actor: audit.Actor, now: datetime,
            note: str | None = None) -> Referral:
    """Release a held referral: it qualifies now if its qualifying event already
    happened, otherwise it waits for it like any other."""
    referral = _held(session, referral_id)
    _reviewed(referral, actor, now, note)
    if referral.terms.get("qualify_on") == "signup":
        qualify(session, referral, now=now, from_status="held")
    elif referral.qualifying_purchase_id is not None:
        purchase = session.get(Purchase, referral.qualifying_purchase_id)
        qualify(session, referral, now=now, purchase=purchase, from_status="held")
    else:
        referral.status = "pending"
        tally.moved(session, referral.referrer_id, "held", "pending")
    audit.record(session, actor, "referral.approve", "referral", referral.id, now=now,
                 before={"status": "held", "flags": referral.flags}, after={"status": referral.status},
                 reason=note)
    session.flush()
    return referral


def reject(session: Session, referral_id: int, *, actor: audit.Actor, now: datetime,
           note: str | None = None) -> Referral:
    referral = _held(session, referral_id)
    _reviewed(referral, actor, now, note)
    referral.status = "rejected"
    tally.moved(session, referral.referrer_id, "held", "rejected")
    audit.record(session, actor, "referral.reject", "referral", referral.id, now=now,
                 before={"status": "held", "flags": referral.flags}, after={"status": "rejected"}, reason=note)
    session.flush()
    return referral


def _reviewed(referral: Referral, actor: audit.Actor, now: datetime, note: str | None) -> None:
    referral.reviewed_by, referral.reviewed_at = actor.label[:120], now
    referral.review_note = (note or "").strip()[:300] or None


def expire_overdue(session: Session, now: datetime) -> int:
    """Pending referrals whose friend did not qualify in time (set-based; held
    ones wait for staff)."""
    referrers = session.scalars(
        update(Referral).where(Referral.status == "pending", Referral.qualify_by.is_not(None),
                               Referral.qualify_by < now)
        .values(status="expired").returning(Referral.referrer_id)
        .execution_options(synchronize_session=False)
    ).all()
    tally.moved_many(session, referrers, "pending", "expired")
    return len(referrers)

