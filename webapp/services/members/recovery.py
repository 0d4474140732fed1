"""No member is ever locked out: a reset link by e-mail, a 6-digit reset code by
SMS, and signing in with an SMS code (the usual way into a club on a phone).

Secrets are kept only as HMAC-SHA256 with the app's secret, one live secret per
member and purpose (a new request replaces the old one). A code lives 10
minutes and dies after 5 wrong tries; a link lives 30 minutes; both work once.
Every request answers the same for known and unknown accounts: the caller shows
one page whatever happened here, and nothing is sent to an unknown address."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.i18n import ascii_digits
from webapp.models import Member, RecoveryCode
from webapp.services.errors import DomainError
from webapp.services.members import passwords
from webapp.services.members.accounts import check_password_strength, sign_out_everywhere
from webapp.services.members.identity import looks_like_email, normalise_email, normalise_mobile

CODE_DIGITS = 6
CODE_LIFE = timedelta(minutes=10)
LINK_LIFE = timedelta(minutes=30)
MAX_TRIES = 5
# secrets sent per account and purpose per hour (the views also limit per address and visitor)
SENT_PER_HOUR = 5
WINDOW = timedelta(hours=1)
KINDS = {"sign_in": "sign_in_code", "reset_code": "password_reset_code", "reset_link": "password_reset"}
RESET_PURPOSES = ("reset_code", "reset_link")


class InvalidLogin(DomainError):
    """Give an e-mail address or a mobile number."""

    code = "invalid_login"


@dataclass(frozen=True)
class Requested:
    """Where a secret went, as the visitor typed it: the same for unknown accounts."""

    channel: str  # "email" | "sms"
    address: str  # normalised


def parse_login(raw: str) -> Requested:
    """An e-mail or a mobile (any digits, any usual form), normalised."""
    try:
        if looks_like_email(raw):
            return Requested("email", normalise_email(raw))
        return Requested("sms", normalise_mobile(raw))
    except DomainError:
        raise InvalidLogin() from None


def parse_mobile(raw: str) -> str:
    try:
        return normalise_mobile(raw)
    except DomainError:
        raise InvalidLogin("This is not a valid mobile number.") from None


def _digest(secret_key: str, purpose: str, value: str) -> str:
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _member_at(session: Session, channel: str, address: str) -> Member | None:
    column = Member.email if channel == "email" else Member.mobile
    member = session.scalar(select(Member).where(column == address))
    return member if member is not None and member.is_active else None


def request_reset(session: Session, login: str, *, secret_key: str, config: Mapping, now: datetime) -> Requested:
    """Send a reset link to an e-mail or a reset code to a mobile, if a member has it."""
    where = parse_login(login)
    member = _member_at(session, where.channel, where.address)
    if member is not None and where.channel == "email":
        token = secrets.token_urlsafe(32)
        if _issue(session, member, "reset_link", _digest(secret_key, "reset_link", token), now):
            from webapp.services.messages.links import absolute

            _tell(session, member, "reset_link", where, now,
                  {"link": absolute(config, f"/password/reset/{token}"), "minutes": _minutes(LINK_LIFE)})
    elif member is not None:
        _send_code(session, member, "reset_code", where, secret_key=secret_key, now=now)
    return where


def request_sign_in_code(session: Session, mobile: str, *, secret_key: str, now: datetime) -> Requested:
    """Text a sign-in code to this mobile, if a member has it."""
    where = Requested("sms", parse_mobile(mobile))
    member = _member_at(session, "sms", where.address)
    if member is not None:
        _send_code(session, member, "sign_in", where, secret_key=secret_key, now=now)
    return where


def _send_code(session: Session, member: Member, purpose: str, where: Requested, *, secret_key: str,
               now: datetime) -> None:
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    if _issue(session, member, purpose, _digest(secret_key, purpose, f"{member.id}:{code}"), now):
        _tell(session, member, purpose, where, now, {"code": code, "minutes": _minutes(CODE_LIFE)})


def _minutes(life: timedelta) -> int:
    return int(life.total_seconds() // 60)


def _issue(session: Session, member: Member, purpose: str, secret_hash: str, now: datetime) -> bool:
    """Replace the member's secret for `purpose`; False (nothing sent) once the
    account has had its secrets for this hour."""
    row = _row(session, member.id, purpose, now)
    if now - row.window_started_at >= WINDOW:
        row.window_started_at, row.sent_in_window = now, 0
    if row.sent_in_window >= SENT_PER_HOUR:
        return False
    life = LINK_LIFE if purpose == "reset_link" else CODE_LIFE
    row.sent_in_window += 1
    row.secret_hash, row.tries, row.created_at, row.expires_at, row.used_at = secret_hash, 0, now, now + life, None
    session.flush()
    return True


def _row(session: Session, member_id: int, purpose: str, now: datetime) -> RecoveryCode:
    query = select(RecoveryCode).where(RecoveryCode.member_id == member_id, RecoveryCode.purpose == purpose)
    row = session.scalar(query.with_for_update())
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = RecoveryCode(member_id=member_id, purpose=purpose, secret_hash="", tries=0, created_at=now,
                               expires_at=now, window_started_at=now, sent_in_window=0)
            session.add(row)
            session.flush()
        return row
    except IntegrityError:  # a concurrent first request for this member
        return session.scalar(query.with_for_update())


def _tell(session: Session, member: Member, purpose: str, where: Requested, now: datetime, params: dict) -> None:
    from webapp.services import messages

    messages.notify(session, member_id=member.id, kind=KINDS[purpose], params=params,
                    key=f"{purpose}:{secrets.token_hex(8)}", now=now, channels=(where.channel,),
                    address=where.address)


def _use(session: Session, row: RecoveryCode | None, secret_hash: str, now: datetime) -> bool:
    """One try at a live secret: counted (guarded, so parallel guesses cannot
    pass the limit), and on a match used up at once (guarded, so it works once)."""
    if row is None or row.used_at is not None or row.expires_at <= now or row.tries >= MAX_TRIES:
        return False
    live = (RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None), RecoveryCode.tries < MAX_TRIES)
    counted = session.execute(update(RecoveryCode).where(*live).values(tries=RecoveryCode.tries + 1)
                              .execution_options(synchronize_session=False)).rowcount
    if counted != 1 or not hmac.compare_digest(row.secret_hash, secret_hash):
        return False
    return session.execute(update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False)).rowcount == 1


def _code_row(session: Session, purpose: str, mobile: str) -> tuple[Member | None, RecoveryCode | None]:
    try:
        member = _member_at(session, "sms", normalise_mobile(mobile))
    except DomainError:
        return None, None
    if member is None:
        return None, None
    return member, session.scalar(select(RecoveryCode).where(RecoveryCode.member_id == member.id,
                                                             RecoveryCode.purpose == purpose))


def _typed_code(code: str) -> str:
    return "".join(ch for ch in ascii_digits(code or "") if ch.isdigit())


def sign_in_with_code(session: Session, mobile: str, code: str, *, secret_key: str, now: datetime) -> Member | None:
    """The member whose live sign-in code this is, the code used up; else None
    (wrong, expired, used, dead after 5 tries, or no such member: one answer)."""
    member, row = _code_row(session, "sign_in", mobile)
    digest = _digest(secret_key, "sign_in", f"{member.id if member else 0}:{_typed_code(code)}")
    if member is None or not _use(session, row, digest, now):
        return None
    member.last_login_at = now
    return member


def reset_with_code(session: Session, mobile: str, code: str, password: str, *, secret_key: str,
                    now: datetime) -> Member | None:
    """A new password with the SMS reset code; signs out every session. A weak
    password is refused before the code is tried (it does not cost a try)."""
    check_password_strength(password)
    member, row = _code_row(session, "reset_code", mobile)
    digest = _digest(secret_key, "reset_code", f"{member.id if member else 0}:{_typed_code(code)}")
    if member is None or not _use(session, row, digest, now):
        return None
    _set_password(session, member, password, now)
    return member


def _link_row(session: Session, digest: str) -> RecoveryCode | None:
    return session.scalar(select(RecoveryCode).where(RecoveryCode.purpose == "reset_link",
                                                     RecoveryCode.secret_hash == digest))


def _live_member(session: Session, row: RecoveryCode | None, now: datetime) -> Member | None:
    if row is None or row.used_at is not None or row.expires_at <= now or row.tries >= MAX_TRIES:
        return None
    member = session.get(Member, row.member_id)
    return member if member is not None and member.is_active else None


def link_holder(session: Session, token: str, *, secret_key: str, now: datetime) -> Member | None:
    """The member a live reset link is for (nothing used up: the form shows)."""
    return _live_member(session, _link_row(session, _digest(secret_key, "reset_link", token)), now)


def reset_with_link(session: Session, token: str, password: str, *, secret_key: str, now: datetime) -> Member | None:
    """A new password through the e-mailed link; signs out every session."""
    check_password_strength(password)
    digest = _digest(secret_key, "reset_link", token)
    row = _link_row(session, digest)
    member = _live_member(session, row, now)
    if member is None or not _use(session, row, digest, now):
        return None
    _set_password(session, member, password, now)
    return member


def _set_password(session: Session, member: Member, password: str, now: datetime) -> None:
    """The new password, every other session signed out, and no other way back
    in left open (the other reset secret dies too)."""
    member.password_hash = passwords.hash_password(password)
    sign_out_everywhere(member)
    session.execute(update(RecoveryCode).where(
        RecoveryCode.member_id == member.id, RecoveryCode.purpose.in_(RESET_PURPOSES),
        RecoveryCode.used_at.is_(None)).values(used_at=now).execution_options(synchronize_session=False))
