"""Members: joining, signing in, settings, and finding them for the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import Marketer, Member
from webapp.models.member import new_session_token
from webapp.services import messages
from webapp.services.errors import Conflict, DomainError, NotFound
from webapp.services.members import passwords
from webapp.services.members.identity import (
    looks_like_email,
    new_code,
    normalise_email,
    normalise_mobile,
)
from webapp.services.offers import earn_rules


class AlreadyRegistered(Conflict):
    """An account with this e-mail or mobile already exists."""

    code = "already_registered"


class WeakPassword(DomainError):
    """The password must be at least 8 characters."""

    code = "weak_password"


class MissingIdentifier(DomainError):
    """Give an e-mail address or a mobile number."""

    code = "missing_identifier"


@dataclass(frozen=True)
class Identifiers:
    email: str | None
    mobile: str | None
    external_id: str | None = None


def normalise_identifiers(
    email: str | None, mobile: str | None, external_id: str | None = None
) -> Identifiers:
    email = normalise_email(email) if email and email.strip() else None
    mobile = normalise_mobile(mobile) if mobile and mobile.strip() else None
    external_id = external_id.strip() if external_id and external_id.strip() else None
    return Identifiers(email, mobile, external_id)


def check_password_strength(password: str) -> None:
    if len(password or "") < passwords.MIN_LENGTH:
        raise WeakPassword()
    if len(password) > passwords.MAX_LENGTH:
        raise WeakPassword("The password is too long (at most 128 characters).")


def _unique_referral_code(session: Session) -> str:
    # members and marketers share the /r/<code> namespace
    while True:
        code = new_code()
        if (session.scalar(select(Member.id).where(Member.referral_code == code)) is None
                and session.scalar(select(Marketer.id).where(Marketer.code == code)) is None):
            return code


def create_member(
    session: Session,
    *,
    ids: Identifiers,
    now: datetime,
    password: str | None = None,
    display_name: str = "",
    locale: str | None = None,
    referred_by_id: int | None = None,
    welcome: bool = False,
) -> Member:
    """A new member; `welcome`: a sign-up (the join page, the till), told so in
    the same transaction (`welcome`, once per member)."""
    if not (ids.email or ids.mobile or ids.external_id):
        raise MissingIdentifier()
    if password is not None:
        check_password_strength(password)
    taken = find_by_identifiers(session, ids)
    if taken:
        raise AlreadyRegistered()
    member = Member(
        email=ids.email,
        mobile=ids.mobile,
        external_id=ids.external_id,
        password_hash=passwords.hash_password(password) if password else None,
        display_name=(display_name or "").strip()[:80],
        locale=locale,
        referral_code=_unique_referral_code(session),
        referred_by_id=referred_by_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError as exc:  # a concurrent join with the same e-mail or mobile
        raise AlreadyRegistered() from exc
    earn_rules.award_for_event(session, member_id=member.id, trigger="signup",
                               event_key=f"signup:{member.id}", now=now)
    if welcome:
        messages.notify(session, member_id=member.id, kind="welcome", params={"path": "/me"},
                        key=f"welcome:{member.id}", now=now)
    return member


def find_by_identifiers(session: Session, ids: Identifiers) -> list[Member]:
    conditions = []
    if ids.email:
        conditions.append(Member.email == ids.email)
    if ids.mobile:
        conditions.append(Member.mobile == ids.mobile)
    if ids.external_id:
        conditions.append(Member.external_id == ids.external_id)
    if not conditions:
        return []
    return list(session.scalars(select(Member).where(or_(*conditions)).order_by(Member.id)))


def find_or_create(
    session: Session, *, ids: Identifiers, now: datetime, display_name: str = "", locale: str | None = None
) -> tuple[Member, bool]:
    """For the till: the member these identifiers name, created if new.
    Identifiers that name two different members are a conflict, not a guess."""
    found = find_by_identifiers(session, ids)
    if len(found) > 1:
        raise Conflict("These identifiers belong to different members.", member_ids=[m.id for m in found])
    if found:
        member = found[0]
        # fill in what the till knows and we did not, never overwrite
        for field in ("email", "mobile", "external_id"):
            if getattr(ids, field) and not getattr(member, field):
                setattr(member, field, getattr(ids, field))
        session.flush()
        return member, False
    return create_member(session, ids=ids, now=now, display_name=display_name, locale=locale, welcome=True), True


def find_for_login(session: Session, login: str) -> Member | None:
    """The member a login string names (e-mail or mobile), or None."""
    try:
        if looks_like_email(login):
            return session.scalar(select(Member).where(Member.email == normalise_email(login)))
        return session.scalar(select(Member).where(Member.mobile == normalise_mobile(login)))
    except DomainError:
        return None


def authenticate(session: Session, login: str, password: str, now: datetime) -> Member | None:
    """The member if the password matches and the account is active. Unknown
    accounts cost the same hashing time, so the answer leaks nothing."""
    member = find_for_login(session, login)
    ok = passwords.verify_password(member.password_hash if member else None, password)
    if not ok or member is None or not member.is_active:
        return None
    if passwords.needs_rehash(member.password_hash):
        member.password_hash = passwords.hash_password(password)
    member.last_login_at = now
    return member


def get_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("Member not found.", member_id=member_id)
    return member


def update_settings(
    member: Member, *, locale: str | None = None, consent_email: bool | None = None,
    consent_sms: bool | None = None, display_name: str | None = None,
) -> None:
    if locale is not None:
        member.locale = locale
    if consent_email is not None:
        member.consent_email = consent_email
    if consent_sms is not None:
        member.consent_sms = consent_sms
    if display_name is not None:
        member.display_name = display_name.strip()[:80]


def save_profile(session: Session, member: Member, *, now: datetime, birthday=None,
                 **settings) -> None:
    """The member's settings page: `update_settings` plus the birthday; the save
    that completes the profile earns the profile-completed rules (once ever)."""
    was_complete = earn_rules.profile_complete(member)
    update_settings(member, **settings)
    member.birthday = birthday
    earn_rules.on_profile_saved(session, member, was_complete=was_complete, now=now)


def sign_out_everywhere(member: Member) -> None:
    """Rotating the token invalidates every session that carries the old one."""
    member.session_token = new_session_token()

