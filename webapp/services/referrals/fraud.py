"""Checks that hold a referral for staff review: self-referral (same e-mail,
same device), velocity (one link or one address signing up too often) and
throwaway e-mail domains. A check that fires never drops a referral."""

from __future__ import annotations

import fnmatch
from datetime import datetime, timedelta

from disposable_email_domains import blocklist
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Marketer, Member, MemberDevice, Referral

GMAIL = frozenset({"gmail.com", "googlemail.com"})
HOUR = timedelta(hours=1)


def canonical_email(email: str | None) -> str | None:
    """One spelling per mailbox: `A.B+tag@Gmail.com` and `ab@gmail.com` are the same."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def is_disposable(email: str | None, extra: str = "") -> bool:
    """The domain (or a parent domain) is a known throwaway service, or matches
    one of the club's own lines (a domain, or a pattern like `*.xyz`)."""
    if not email or "@" not in email:
        return False
    domain = email.rsplit("@", 1)[1].strip().lower()
    parts = domain.split(".")
    parents = {".".join(parts[i:]) for i in range(len(parts) - 1)}
    if parents & blocklist:
        return True
    for line in extra.splitlines():
        pattern = line.strip().lower()
        if pattern and not pattern.startswith("#") and (
            fnmatch.fnmatchcase(domain, pattern) or pattern in parents
        ):
            return True
    return False


def _owner(session: Session, link) -> tuple[list[str], list[int]]:
    """The e-mail addresses and member accounts of whoever owns the link."""
    if link.referrer_id is not None:
        owner = session.get(Member, link.referrer_id)
        return [owner.email] if owner.email else [], [owner.id]
    marketer = session.get(Marketer, link.marketer_id)
    emails = [marketer.email] if marketer.email else []
    ids = []
    if marketer.member_id is not None:
        ids.append(marketer.member_id)
        member = session.get(Member, marketer.member_id)
        if member.email:
            emails.append(member.email)
    return emails, ids


def check(session: Session, *, friend: Member, link, visitor: str | None, ip_hash: str | None,
          now: datetime, settings) -> list[str]:
    """The flags that fire for this sign-up (empty: nothing suspicious). Called
    while the link owner's row is locked, so sign-ups through one link are
    counted one at a time."""
    flags = []
    emails, owner_ids = _owner(session, link)
    mine = canonical_email(friend.email)
    if mine and mine in {canonical_email(e) for e in emails}:
        flags.append("self_email")
    if visitor and owner_ids and session.scalar(
        select(MemberDevice.id).where(MemberDevice.member_id.in_(owner_ids), MemberDevice.visitor == visitor)
    ):
        flags.append("self_device")
    since = now - HOUR
    # marketers' campaign links are meant to bring many people at once: only a
    # member's link has a velocity limit
    if link.referrer_id is not None and _count(
        session, Referral.referrer_id == link.referrer_id, since
    ) >= settings.velocity_link_per_hour:
        flags.append("velocity_link")
    if ip_hash and _count(session, Referral.ip_hash == ip_hash, since) >= settings.velocity_ip_per_hour:
        flags.append("velocity_ip")
    if settings.hold_disposable and is_disposable(friend.email, settings.extra_disposable):
        flags.append("disposable_email")
    return flags


def _count(session: Session, condition, since: datetime) -> int:
    return session.scalar(select(func.count(Referral.id)).where(condition, Referral.created_at > since))
