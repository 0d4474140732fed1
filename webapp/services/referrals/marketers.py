"""Marketers (affiliates): staff create them (people outside the member base,
or members promoted to it), give each a code and a commission per qualified
friend, suspend them, and pay out what the club owes them (a bank transfer, or
for a member, store credit). Commissions themselves are posted by
`services.referrals` when a friend qualifies.

A marketer's code shares the invite-link namespace with the members' referral
codes (`/r/<code>`), so a new code is checked against both; two marketers
claiming one code at once are told apart by the unique constraint."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import case, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import Marketer, MarketerEntry, Member, Referral, ReferralOpen
from webapp.models.member import new_session_token
from webapp.services import ledger
from webapp.services.errors import (
    Conflict,
    DomainError,
    NotFound,
    ProblemsInvalid,
)
from webapp.services.members import accounts, audit, passwords
from webapp.services.members.identity import (
    CODE_ALPHABET,
    new_code,
    normalise_email,
)
from webapp.services.referrals import CAMPAIGN_RE, marketer_ledger

MIN_CODE, MAX_CODE = 4, 16
CODE_RE = re.compile(rf"[{CODE_ALPHABET}]{{{MIN_CODE},{MAX_CODE}}}")
MAX_NAME = 80
MAX_NOTE = 300
MAX_REFERENCE = 120
MAX_COMMISSION = 10**10  # smallest money unit per friend
MAX_PAYOUT = 10**13
MAX_KEY = 100
PASSWORD_LINK_DAYS = 7
_LINK_SALT = "vafa-marketer-set-password"


class MarketerInvalid(ProblemsInvalid):
    """The marketer's details are not valid."""

    code = "marketer_invalid"


class CodeTaken(Conflict):
    """This code is already a member's or a marketer's invite code."""

    code = "code_taken"


class EmailTaken(Conflict):
    """A marketer with this e-mail already exists."""

    code = "marketer_email_taken"


class EmailIsMember(Conflict):
    """This e-mail belongs to a member: promote the member instead."""

    code = "marketer_email_is_member"


class MemberUnknown(NotFound):
    """No member has this e-mail or mobile number."""

    code = "marketer_member_unknown"


class AlreadyMarketer(Conflict):
    """This member is already a marketer."""

    code = "already_marketer"


class NotMemberBacked(DomainError):
    """Only a marketer who is a member can take store credit."""

    code = "marketer_not_member"
    status = 409


class PayoutInvalid(DomainError):
    """Enter an amount above zero and a reference."""

    code = "payout_invalid"


class InvalidPasswordLink(DomainError):
    """This link is not valid any more: ask the club for a new one."""

    code = "invalid_password_link"
    status = 404


@dataclass(frozen=True)
class MarketerTerms:
    """What staff set on a marketer; the commission is per qualified friend: a
    fixed amount plus basis points of the qualifying purchase."""

    name: str
    commission_amount: int = 0
    commission_bp: int = 0
    note: str | None = None

    def checked(self) -> MarketerTerms:
        problems = {}
        name = " ".join((self.name or "").split())
        if not name or len(name) > MAX_NAME:
            problems["name"] = "marketer_name"
        if not _int_between(self.commission_amount, 0, MAX_COMMISSION):
            problems["commission_amount"] = "commission_amount_range"
        if not _int_between(self.commission_bp, 0, 10_000):
            problems["commission_bp"] = "commission_percent_range"
        note = (self.note or "").strip()
        if len(note) > MAX_NOTE:
            problems["note"] = "note_too_long"
        if problems:
            raise MarketerInvalid(problems)
        return MarketerTerms(name, self.commission_amount, self.commission_bp, note or None)

    def as_dict(self) -> dict:
        return {"name": self.name, "commission_amount": self.commission_amount,
                "commission_bp": self.commission_bp, "note": self.note}


def _int_between(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _terms_of(marketer: Marketer) -> dict:
    return {"name": marketer.name, "commission_amount": marketer.commission_amount,
            "commission_bp": marketer.commission_bp, "note": marketer.note}


# -- codes ----------------------------------------------------------------------


def clean_code(raw: str | None) -> str:
    """A vanity code as staff typed it, upper-cased; MarketerInvalid if it has
    letters the codes never use (0/O, 1/I/L) or the wrong length."""
    code = (raw or "").strip().upper()
    if not CODE_RE.fullmatch(code):
        raise MarketerInvalid({"code": "marketer_code_format"})
    return code


def code_in_use(session: Session, code: str) -> bool:
    return (session.scalar(select(Member.id).where(Member.referral_code == code)) is not None
            or session.scalar(select(Marketer.id).where(Marketer.code == code)) is not None)


def _claim_code(session: Session, raw: str | None) -> str:
    """The vanity code if free, else a new random one. On PostgreSQL a
    transaction-long lock on the code keeps a concurrent claim from passing the
    same check; the unique constraint is the last word among marketers."""
    if raw and raw.strip():
        code = clean_code(raw)
        _lock_code(session, code)
        if code_in_use(session, code):
            raise CodeTaken(code=code)
        return code
    while True:
        code = new_code()
        if not code_in_use(session, code):
            return code


def _lock_code(session: Session, code: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
                        {"name": f"invite-code:{code}"})


def _insert(session: Session, marketer: Marketer) -> None:
    try:
        with session.begin_nested():
            session.add(marketer)
            session.flush()
    except IntegrityError as exc:  # a concurrent claim of the same code, e-mail or member
        if session.scalar(select(Marketer.id).where(Marketer.code == marketer.code)) is not None:
            raise CodeTaken(code=marketer.code) from exc
        if marketer.member_id is not None:
            raise AlreadyMarketer() from exc
        raise EmailTaken() from exc


# -- creating and editing -----------------------------------------------------------


def create_marketer(session: Session, terms: MarketerTerms, *, email: str, actor: audit.Actor, now: datetime,
                    password: str | None = None, code: str | None = None) -> Marketer:
    """A marketer outside the member base, who signs in at /partner/login with
    the password staff set (or one they choose through a set-password link)."""
    terms = terms.checked()
    email = normalise_email(email)
    if password:
        _check_password(password)
    if session.scalar(select(Marketer.id).where(Marketer.email == email)) is not None:
        raise EmailTaken()
    if session.scalar(select(Member.id).where(Member.email == email)) is not None:
        raise EmailIsMember()
    marketer = Marketer(
        name=terms.name, code=_claim_code(session, code), email=email,
        password_hash=passwords.hash_password(password) if password else None,
        commission_amount=terms.commission_amount, commission_bp=terms.commission_bp, note=terms.note,
        created_by=actor.label[:64], created_at=now,
    )
    _insert(session, marketer)
    audit.record(session, actor, "marketer.create", "marketer", marketer.id, now=now,
                 after={**terms.as_dict(), "code": marketer.code, "email": email,
                        "password_set": bool(password)})
    session.flush()
    return marketer


def promote_member(session: Session, terms: MarketerTerms, *, login: str, actor: audit.Actor, now: datetime,
                   code: str | None = None) -> Marketer:
    """Make a member a marketer: they keep signing in as the member and find
    their marketer dashboard at /partner."""
    terms = terms.checked()
    member = accounts.find_for_login(session, login)
    if member is None:
        raise MemberUnknown()
    if session.scalar(select(Marketer.id).where(Marketer.member_id == member.id)) is not None:
        raise AlreadyMarketer()
    marketer = Marketer(
        name=terms.name, code=_claim_code(session, code), member_id=member.id,
        commission_amount=terms.commission_amount, commission_bp=terms.commission_bp, note=terms.note,
        created_by=actor.label[:64], created_at=now,
    )
    _insert(session, marketer)
    audit.record(session, actor, "marketer.promote", "marketer", marketer.id, now=now,
                 after={**terms.as_dict(), "code": marketer.code, "member_id": member.id})
    session.flush()
    return marketer


def get_marketer(session: Session, marketer_id: int, *, lock: bool = False) -> Marketer:
    stmt = select(Marketer).where(Marketer.id == marketer_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    marketer = session.scalar(stmt)
    if marketer is None:
        raise NotFound("Marketer not found.", marketer_id=marketer_id)
    return marketer


def update_marketer(session: Session, marketer_id: int, terms: MarketerTerms, *, actor: audit.Actor,
                    now: datetime) -> Marketer:
    """Name, commission and note. The code stays: links are already out there.
    A new commission applies to friends who qualify from now on."""
    terms = terms.checked()
    marketer = get_marketer(session, marketer_id, lock=True)
    before = _terms_of(marketer)
    marketer.name, marketer.note = terms.name, terms.note
    marketer.commission_amount, marketer.commission_bp = terms.commission_amount, terms.commission_bp
    after = _terms_of(marketer)
    if after != before:
        changed = [k for k in after if after[k] != before[k]]
        audit.record(session, actor, "marketer.update", "marketer", marketer.id, now=now,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    session.flush()
    return marketer


def set_status(session: Session, marketer_id: int, status: str, *, actor: audit.Actor, now: datetime,
               reason: str | None = None) -> Marketer:
    """Suspend (the link stops resolving, sessions end) or reactivate."""
    if status not in ("active", "suspended"):
        raise MarketerInvalid({"status": "unknown_status"})
    marketer = get_marketer(session, marketer_id, lock=True)
    if marketer.status == status:
        return marketer
    before = marketer.status
    marketer.status = status
    if status == "suspended":
        marketer.session_token = new_session_token()  # signed-in sessions end now, not on reactivation
    audit.record(session, actor, "marketer.suspend" if status == "suspended" else "marketer.reactivate",
                 "marketer", marketer.id, now=now, before={"status": before}, after={"status": status},
                 reason=(reason or "").strip()[:300] or None)
    session.flush()
    return marketer


# -- paying out ----------------------------------------------------------------


@dataclass(frozen=True)
class Payout:
    entry: MarketerEntry
    balance: int  # the marketer's balance after it
    replayed: bool  # the same form token had already been posted: nothing changed


def pay_out(session: Session, marketer_id: int, amount: int, *, reference: str, key: str, actor: audit.Actor,
            now: datetime) -> Payout:
    """Record money paid to the marketer (e.g. a bank transfer and its number).
    Never more than the balance: the ledger's guarded update refuses it, also
    when two payouts race. One entry per form token."""
    reference = " ".join((reference or "").split())
    if not _int_between(amount, 1, MAX_PAYOUT) or not reference or len(reference) > MAX_REFERENCE:
        raise PayoutInvalid()
    get_marketer(session, marketer_id)
    entry, new = marketer_ledger.post(session, marketer_id=marketer_id, amount=-amount, kind="payout",
                                      key=f"marketer-payout:{_checked_key(key)}", now=now,
                                      reference=reference, created_by=actor.label[:64])
    balance = marketer_ledger.balance(session, marketer_id)
    if new:
        audit.record(session, actor, "marketer.payout", "marketer", marketer_id, now=now, reason=reference,
                     before={"balance": balance + amount},
                     after={"balance": balance, "amount": amount, "entry_id": entry.id})
        session.flush()
    return Payout(entry=entry, balance=balance, replayed=not new)


def convert_to_credit(session: Session, marketer_id: int, amount: int, *, key: str, actor: audit.Actor,
                      now: datetime) -> Payout:
    """Pay a member-backed marketer in store credit: the payout entry and the
    member's credit grant share one key and one transaction, so a replay of the
    form posts neither twice."""
    if not _int_between(amount, 1, MAX_PAYOUT):
        raise PayoutInvalid()
    marketer = get_marketer(session, marketer_id)
    if marketer.member_id is None:
        raise NotMemberBacked()
    key = f"marketer-credit:{_checked_key(key)}"
    entry, new = marketer_ledger.post(session, marketer_id=marketer_id, amount=-amount, kind="payout", key=key,
                                      now=now, reference="store credit", created_by=actor.label[:64])
    posting = ledger.grant_credit(session, marketer.member_id, amount, key=key, now=now,
                                  source=("marketer", marketer_id), created_by=actor.label[:64],
                                  description="Marketer commission paid as store credit")
    balance = marketer_ledger.balance(session, marketer_id)
    if new:
        audit.record(session, actor, "marketer.convert_credit", "marketer", marketer_id, now=now,
                     before={"balance": balance + amount},
                     after={"balance": balance, "amount": amount, "entry_id": entry.id,
                            "member_id": marketer.member_id, "credit_entry_id": posting.entry.id})
        session.flush()
    return Payout(entry=entry, balance=balance, replayed=not new)


def _checked_key(key: str | None) -> str:
    from webapp.services.ledger.adjustments import InvalidFormToken

    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidFormToken()
    return key


# -- signing in ----------------------------------------------------------------


def _check_password(password: str) -> None:
    from webapp.services.members.accounts import check_password_strength

    check_password_strength(password)


def authenticate(session: Session, email: str, password: str, now: datetime) -> Marketer | None:
    """A marketer outside the member base, if the password matches and they are
    active. Unknown accounts cost the same hashing time: the answer leaks nothing."""
    try:
        email = normalise_email(email)
    except DomainError:
        email = None
    marketer = session.scalar(select(Marketer).where(Marketer.email == email)) if email else None
    stored = marketer.password_hash if marketer is not None and marketer.member_id is None else None
    if not passwords.verify_password(stored, password) or not marketer.is_active:
        return None
    if passwords.needs_rehash(stored):
        marketer.password_hash = passwords.hash_password(password)
    marketer.last_login_at = now
    return marketer


def sign_out_everywhere(marketer: Marketer) -> None:
    marketer.session_token = new_session_token()


def _link_fingerprint(marketer: Marketer) -> str:
    # changes when the password is set or sessions are revoked: the link is good once
    seen = f"{marketer.session_token}:{marketer.password_hash or ''}"
    return hashlib.sha256(seen.encode()).hexdigest()[:24]


def password_link_token(session: Session, marketer_id: int, *, secret: str, actor: audit.Actor,
                        now: datetime) -> str:
    """A signed token for /partner/set-password/<token>, valid for a week and
    until a password is set through it (audited: staff hand it over)."""
    marketer = get_marketer(session, marketer_id)
    if marketer.member_id is not None:
        raise NotMemberBacked("A member signs in as the member.")
    if not marketer.is_active:
        raise Conflict("The marketer is suspended.")
    audit.record(session, actor, "marketer.password_link", "marketer", marketer.id, now=now)
    session.flush()
    return URLSafeTimedSerializer(secret, salt=_LINK_SALT).dumps([marketer.id, _link_fingerprint(marketer)])


def marketer_for_password_token(session: Session, token: str, *, secret: str,
                                max_age: int = PASSWORD_LINK_DAYS * 86_400) -> Marketer:
    try:
        marketer_id, fingerprint = URLSafeTimedSerializer(secret, salt=_LINK_SALT).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired, ValueError, TypeError) as exc:
        raise InvalidPasswordLink() from exc
    marketer = session.get(Marketer, marketer_id) if isinstance(marketer_id, int) else None
    if marketer is None or not marketer.is_active or marketer.member_id is not None \
            or fingerprint != _link_fingerprint(marketer):
        raise InvalidPasswordLink()
    return marketer


def set_password(marketer: Marketer, password: str, *, now: datetime) -> None:
    """A new password ends every session (and spends the link that led here)."""
    _check_password(password)
    marketer.password_hash = passwords.hash_password(password)
    marketer.session_token = new_session_token()
    marketer.last_login_at = now


# -- who is this ---------------------------------------------------------------


def of_member(session: Session, member_id: int) -> Marketer | None:
    """The active marketer a member was promoted to, if any."""
    return session.scalar(select(Marketer).where(Marketer.member_id == member_id, Marketer.status == "active"))


def link_path(code: str, campaign: str | None = None) -> str:
    """The invite link's path: /r/<code>, with ?c=<tag> for a campaign."""
    return f"/r/{quote(code)}" + (f"?c={quote(campaign)}" if campaign else "")


def clean_campaign_tag(raw: str | None) -> str | None:
    """A tag for a campaign link (lower-case letters, digits, - and _, up to 32);
    None when empty; MarketerInvalid when it cannot be one."""
    tag = (raw or "").strip().lower()
    if not tag:
        return None
    if not CAMPAIGN_RE.match(tag):
        raise MarketerInvalid({"campaign": "campaign_format"})
    return tag


# -- figures -------------------------------------------------------------------


@dataclass(frozen=True)
class Earnings:
    earned: int = 0  # commissions
    reversed: int = 0  # taken back on refunds (positive number)
    paid_out: int = 0  # by transfer or as store credit (positive number)
    adjusted: int = 0  # signed
    balance: int = 0


def earnings(session: Session, marketer_id: int) -> Earnings:
    totals = dict(session.execute(
        select(MarketerEntry.kind, func.coalesce(func.sum(MarketerEntry.amount), 0))
        .where(MarketerEntry.marketer_id == marketer_id).group_by(MarketerEntry.kind)
    ).all())
    return Earnings(earned=int(totals.get("commission", 0)), reversed=-int(totals.get("reversal", 0)),
                    paid_out=-int(totals.get("payout", 0)), adjusted=int(totals.get("adjustment", 0)),
                    balance=marketer_ledger.balance(session, marketer_id))


@dataclass(frozen=True)
class CampaignFunnel:
    campaign: str | None  # None: the plain link, without a tag
    opens: int = 0
    signups: int = 0
    qualified: int = 0
    reversed: int = 0
    commission: int = 0  # net of reversals

    @property
    def conversion_bp(self) -> int:
        """Qualified friends per link open, in basis points."""
        return self.qualified * 10_000 // self.opens if self.opens else 0


def campaign_funnels(session: Session, marketer_id: int) -> list[CampaignFunnel]:
    """Every campaign tag seen on the marketer's links (opened or joined
    through), with its funnel: three grouped queries, however many tags."""
    opens = dict(session.execute(
        select(ReferralOpen.campaign, func.count(ReferralOpen.id))
        .where(ReferralOpen.marketer_id == marketer_id).group_by(ReferralOpen.campaign)
    ).all())
    joined = {row[0]: row[1:] for row in session.execute(
        select(Referral.campaign, func.count(Referral.id),
               func.coalesce(func.sum(case((Referral.status == "qualified", 1), else_=0)), 0),
               func.coalesce(func.sum(case((Referral.status == "reversed", 1), else_=0)), 0))
        .where(Referral.marketer_id == marketer_id).group_by(Referral.campaign)
    )}
    commission = dict(session.execute(
        select(Referral.campaign, func.coalesce(func.sum(MarketerEntry.amount), 0))
        .join(Referral, Referral.id == MarketerEntry.referral_id)
        .where(MarketerEntry.marketer_id == marketer_id, MarketerEntry.kind.in_(("commission", "reversal")))
        .group_by(Referral.campaign)
    ).all())
    tags = set(opens) | set(joined) | set(commission)
    rows = [CampaignFunnel(tag, opens=int(opens.get(tag, 0)), signups=int(joined.get(tag, (0, 0, 0))[0]),
                           qualified=int(joined.get(tag, (0, 0, 0))[1]), reversed=int(joined.get(tag, (0, 0, 0))[2]),
                           commission=int(commission.get(tag, 0)))
            for tag in tags]
    # the plain link first, then by opens
    return sorted(rows, key=lambda r: (r.campaign is not None, -r.opens, r.campaign or ""))


@dataclass(frozen=True)
class MarketerRow:
    marketer: Marketer
    member_name: str | None
    opens: int
    signups: int
    qualified: int


def marketer_rows(session: Session, *, page: int, per_page: int = 50, query: str = "") -> tuple[list[MarketerRow], bool]:
    """The staff list: every marketer with its balance and funnel totals in one
    query (grouped subqueries joined to the page of marketers). Returns the rows
    and whether there is a next page."""
    opens = (select(ReferralOpen.marketer_id.label("mid"), func.count(ReferralOpen.id).label("n"))
             .where(ReferralOpen.marketer_id.is_not(None)).group_by(ReferralOpen.marketer_id).subquery())
    joined = (select(Referral.marketer_id.label("mid"), func.count(Referral.id).label("n"),
                     func.sum(case((Referral.status == "qualified", 1), else_=0)).label("qualified"))
              .where(Referral.marketer_id.is_not(None)).group_by(Referral.marketer_id).subquery())
    stmt = (
        select(Marketer, Member.display_name, func.coalesce(opens.c.n, 0), func.coalesce(joined.c.n, 0),
               func.coalesce(joined.c.qualified, 0))
        .outerjoin(Member, Member.id == Marketer.member_id)
        .outerjoin(opens, opens.c.mid == Marketer.id)
        .outerjoin(joined, joined.c.mid == Marketer.id)
        .order_by(Marketer.id.desc())
        .limit(per_page + 1).offset((page - 1) * per_page)
    )
    query = (query or "").strip()
    if query:
        like = f"%{query.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Marketer.name.ilike(like), Marketer.code.ilike(like), Marketer.email.ilike(like),
                              Member.email.ilike(like)))
    rows = [MarketerRow(m, name, int(o), int(s), int(q)) for m, name, o, s, q in session.execute(stmt)]
    return rows[:per_page], len(rows) > per_page


def entries_page(session: Session, marketer_id: int, *, page: int, per_page: int = 20) -> tuple[list[MarketerEntry], bool]:
    rows = list(session.scalars(
        select(MarketerEntry).where(MarketerEntry.marketer_id == marketer_id)
        .order_by(MarketerEntry.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)
    ))
    return rows[:per_page], len(rows) > per_page
