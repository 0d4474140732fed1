"""Staff accounts and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import ROLES, ApiKey, Staff
from webapp.models.member import new_session_token
from webapp.services.errors import Conflict, DomainError, NotFound
from webapp.services.members import audit, passwords
from webapp.services.members.accounts import check_password_strength
from webapp.services.members.identity import normalise_email

API_KEY_PREFIX = "vafa"


class SelfDeactivation(DomainError):
    """You cannot deactivate your own account."""

    code = "self_deactivation"


def create_staff(
    session: Session, *, email: str, password: str, role: str, actor: audit.Actor, now: datetime,
    display_name: str = "", locale: str | None = None,
) -> Staff:
    if role not in ROLES:
        raise DomainError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    email = normalise_email(email)
    check_password_strength(password)
    if session.scalar(select(Staff.id).where(Staff.email == email)) is not None:
        raise Conflict("A staff account with this e-mail already exists.")
    staff = Staff(
        email=email, password_hash=passwords.hash_password(password), role=role,
        display_name=display_name, locale=locale, created_at=now,
    )
    session.add(staff)
    session.flush()
    audit.record(session, actor, "staff.create", "staff", staff.id, now=now,
                 after={"email": email, "role": role})
    return staff


def deactivate_staff(session: Session, staff_id: int, *, actor: audit.Actor, now: datetime) -> Staff:
    """Close a staff account; rotating its token ends every session it has."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("Staff account not found.")
    if actor.staff is not None and actor.staff.id == staff.id:
        raise SelfDeactivation()
    if staff.active:
        staff.active = False
        staff.session_token = new_session_token()
        audit.record(session, actor, "staff.deactivate", "staff", staff.id, now=now,
                     before={"active": True}, after={"active": False})
        session.flush()
    return staff


def set_staff_locale(
    session: Session, staff: Staff, locale: str | None, *, actor: audit.Actor, now: datetime
) -> None:
    """The language a staff member sees /admin in (None: the club default)."""
    if locale not in (None, "fa", "en"):
        raise DomainError("Unknown language.")
    if staff.locale != locale:
        audit.record(session, actor, "staff.locale", "staff", staff.id, now=now,
                     before={"locale": staff.locale}, after={"locale": locale})
        staff.locale = locale
        session.flush()


def authenticate_staff(
    session: Session, email: str, password: str, now: datetime, ip: str | None = None
) -> Staff | None:
    """The staff account if the password matches; each sign-in is audited, and so is a
    failed one for an existing account (a guessed e-mail is not worth a row)."""
    try:
        email = normalise_email(email)
    except DomainError:
        email = ""
    staff = session.scalar(select(Staff).where(Staff.email == email)) if email else None
    ok = passwords.verify_password(staff.password_hash if staff else None, password)
    if not ok or staff is None or not staff.active:
        if staff is not None:
            audit.record(session, audit.Actor(f"staff:{staff.id}", staff, ip), "staff.login_failed",
                         "staff", staff.id, now=now)
        return None
    staff.last_login_at = now
    audit.record(session, audit.Actor.of_staff(staff, ip), "staff.login", "staff", staff.id, now=now)
    return staff


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, *, name: str, actor: audit.Actor, now: datetime) -> tuple[ApiKey, str]:
    """A new key; the plain text is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name (e.g. the till or shop it is for).")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name[:80], prefix=prefix, key_hash=_hash_secret(secret),
        created_by_id=actor.staff.id if actor.staff else None, created_at=now,
    )
    session.add(key)
    session.flush()
    audit.record(session, actor, "api_key.create", "api_key", key.id, now=now,
                 after={"name": key.name, "prefix": prefix})
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


def verify_api_key(session: Session, presented: str) -> ApiKey | None:
    parts = split_api_key(presented)
    if parts is None:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    return key if api_key_matches(key, parts[1]) else None


def split_api_key(presented: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key; the prefix finds its row."""
    parts = (presented or "").split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    return parts[1], parts[2]


def api_key_matches(key: ApiKey | None, secret: str) -> bool:
    """The row found by the prefix is live and the secret is its own."""
    if key is None or key.revoked_at is not None:
        return False
    return hmac.compare_digest(key.key_hash, _hash_secret(secret))


def revoke_api_key(session: Session, key_id: int, *, actor: audit.Actor, now: datetime) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        key.revoked_at = now
        audit.record(session, actor, "api_key.revoke", "api_key", key.id, now=now,
                     before={"revoked": False}, after={"revoked": True})
    return key
