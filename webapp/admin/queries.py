"""Read-only queries behind the staff pages. Set-based: a page of rows is one
query (plus one to look one row ahead), never one query per row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from webapp.i18n import ascii_digits
from webapp.models import ApiKey, AuditLog, LedgerEntry, Member, Purchase, Staff
from webapp.services.errors import DomainError
from webapp.services.members.identity import normalise_mobile
from webapp.services.referrals import report

MAX_PAGE = 10_000
_PHONE_LIKE = re.compile(r"[\d\s+()-]+")
_INT32 = 2**31 - 1


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def page_number(raw: object) -> int:
    """?page= as a number from 1 to MAX_PAGE; anything else is page 1."""
    try:
        number = int(ascii_digits(str(raw or "1")))
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def optional_id(raw: object) -> int | None:
    """A row id from a query string, or None for anything that is not one."""
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and int(text) <= _INT32 else None


def paginate(session: Session, stmt: Select, page: int, per_page: int, *, scalars=True) -> Page:
    # one row more than the page tells whether there is a next page, without a COUNT
    stmt = stmt.limit(per_page + 1).offset((page - 1) * per_page)
    rows = list(session.scalars(stmt) if scalars else session.execute(stmt))
    return Page(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)


# -- dashboard -------------------------------------------------------------------


@dataclass(frozen=True)
class ClubTotals:
    members: int
    active_members: int
    points_outstanding: int
    credit_outstanding: int
    purchases_30d: int
    purchase_amount_30d: int
    held_referrals: int  # waiting for staff review


def club_totals(session: Session, now: datetime) -> ClubTotals:
    since = now - timedelta(days=30)
    recent = select(Purchase).where(Purchase.occurred_at >= since).subquery()
    row = session.execute(
        select(
            select(func.count()).select_from(Member).scalar_subquery(),
            select(func.count()).select_from(Member).where(Member.status == "active").scalar_subquery(),
            select(func.coalesce(func.sum(Member.points_balance), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(Member.credit_balance), 0)).scalar_subquery(),
            select(func.count()).select_from(recent).scalar_subquery(),
            select(func.coalesce(func.sum(recent.c.amount), 0)).scalar_subquery(),
            report.queue_size_query().scalar_subquery(),
        )
    ).one()
    return ClubTotals(*(int(value) for value in row))


# -- members ---------------------------------------------------------------------


def member_search_condition(query: str):
    """Name, e-mail, external id (contains), member id (`12` or `#12`) and mobile
    (any usual spelling, or a run of at least 4 of its digits)."""
    text = (query or "").strip()
    if not text:
        return None
    latin = ascii_digits(text)
    conditions = [
        Member.display_name.icontains(text, autoescape=True),
        Member.email.icontains(latin, autoescape=True),
        Member.external_id.icontains(latin, autoescape=True),
    ]
    number = latin.lstrip("#")
    if number.isdigit() and int(number) <= _INT32:
        conditions.append(Member.id == int(number))
    try:
        conditions.append(Member.mobile == normalise_mobile(latin))
    except DomainError:
        pass
    digits = "".join(ch for ch in latin if ch.isdigit()).lstrip("0")
    if len(digits) >= 4 and _PHONE_LIKE.fullmatch(latin):
        # stored as +98912…: "0912 123" and "0098912123" both become "912123"
        conditions.append(Member.mobile.contains(digits, autoescape=True))
    return or_(*conditions)


def search_members(session: Session, query: str, page: int, per_page: int = 25) -> Page:
    stmt = select(Member).order_by(Member.id.desc())
    condition = member_search_condition(query)
    if condition is not None:
        stmt = stmt.where(condition)
    return paginate(session, stmt, page, per_page)


def member_ledger(session: Session, member_id: int, page: int, per_page: int = 20) -> Page:
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.member_id == member_id)
        .order_by(LedgerEntry.id.desc())
    )
    return paginate(session, stmt, page, per_page)


def member_purchases(session: Session, member_id: int, limit: int = 20) -> list[Purchase]:
    # items load with one extra IN query (relationship lazy="selectin")
    return list(
        session.scalars(
            select(Purchase)
            .where(Purchase.member_id == member_id)
            .order_by(Purchase.occurred_at.desc(), Purchase.id.desc())
            .limit(limit)
        )
    )


# -- audit, keys, staff ----------------------------------------------------------


def audit_page(
    session: Session, page: int, *, action: str | None = None, staff_id: int | None = None,
    per_page: int = 50,
) -> Page:
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if staff_id:
        stmt = stmt.where(AuditLog.staff_id == staff_id)
    return paginate(session, stmt, page, per_page)


def recent_audit(session: Session, limit: int = 10) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def all_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.email)))


def all_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))
