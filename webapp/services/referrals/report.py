"""The staff report on referrals: the funnel per day, week or month of club
time, the top referrers and marketers, the share channels, the review queue,
and the filterable list of referrals.

Everything is a handful of GROUP BY queries whatever the number of rows: the
periods are computed in Python (club-local midnights turned into UTC instants,
so a change of clock moves nothing) and joined as a small derived table, which
works the same on PostgreSQL and SQLite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from webapp.models import (
    LedgerEntry,
    Marketer,
    MarketerEntry,
    Member,
    MemberDevice,
    Referral,
    ReferralOpen,
    ReferralShare,
)
from webapp.models.types import UTCDateTime
from webapp.services import tiers

PERIODS = ("day", "week", "month")
# how many periods the report shows back from the current one
SPAN = {"day": 14, "week": 12, "month": 12}
# the club's week runs Saturday to Friday, as the Iranian week does
WEEK_STARTS = 5  # date.weekday() of Saturday
TOP = 10


@dataclass(frozen=True)
class Bucket:
    start: datetime  # UTC instant of the club-local start
    end: datetime
    day: date  # the club-local first day, for labels


@dataclass
class Row:
    """One period of the funnel."""

    bucket: Bucket
    opens: int = 0
    signups: int = 0
    held: int = 0  # joined and flagged by a fraud check (whatever staff decided later)
    qualified: int = 0
    reversed: int = 0
    points_paid: int = 0  # to friends and referrers (reversals not subtracted)
    credit_paid: int = 0

    @property
    def signup_bp(self) -> int:
        """Sign-ups per open, in basis points."""
        return self.signups * 10_000 // self.opens if self.opens else 0

    @property
    def qualified_bp(self) -> int:
        """Qualified friends per sign-up, in basis points."""
        return self.qualified * 10_000 // self.signups if self.signups else 0

    @property
    def signup_percent(self) -> Decimal:
        return Decimal(self.signup_bp).scaleb(-2)

    @property
    def qualified_percent(self) -> Decimal:
        return Decimal(self.qualified_bp).scaleb(-2)


@dataclass(frozen=True)
class Leader:
    id: int
    name: str
    signups: int
    qualified: int
    opens: int = 0
    earned: int = 0  # marketers: commission earned in the period


@dataclass
class Report:
    period: str
    rows: list[Row]
    total: Row
    top_referrers: list[Leader] = field(default_factory=list)
    top_marketers: list[Leader] = field(default_factory=list)
    channels: list[tuple[str, int]] = field(default_factory=list)
    queue: int = 0


def _local_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=(day.weekday() - WEEK_STARTS) % 7)
    if period == "month":
        return day.replace(day=1)
    return day


def _next_start(day: date, period: str) -> date:
    if period == "week":
        return day + timedelta(days=7)
    if period == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def buckets(period: str, now: datetime, tz: str | None = None, span: int | None = None) -> list[Bucket]:
    """The last `span` periods up to and including the current one, oldest first."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    zone = ZoneInfo(tiers.club_timezone(tz))
    first = _period_start(now.astimezone(zone).date(), period)
    days = [first]
    for _ in range((span or SPAN[period]) - 1):
        previous = _period_start(days[-1] - timedelta(days=1), period)
        days.append(previous)
    days.reverse()
    return [Bucket(_local_start(d, zone), _local_start(_next_start(d, period), zone), d) for d in days]


def _bucket_of(column, bs: list[Bucket]):
    """The period a time falls in, as a CASE over the ordered boundaries (one
    pass over the rows in range; no join, the same SQL on both databases)."""
    return case(*[(column < literal(b.end, UTCDateTime), n) for n, b in enumerate(bs)], else_=None)


def funnel_by_period(session: Session, bs: list[Bucket]) -> list[Row]:
    """Five aggregate queries, one per event time: opens, joins, qualifying,
    reversals and payments."""
    since, until = literal(bs[0].start, UTCDateTime), literal(bs[-1].end, UTCDateTime)

    def grouped(table, column, *values, where=()):
        n = _bucket_of(column, bs).label("n")
        query = (select(n, *values).select_from(table)
                 .where(column >= since, column < until, *where).group_by(n))
        return {row[0]: tuple(int(v or 0) for v in row[1:]) for row in session.execute(query)}

    flagged = or_(Referral.status == "held", Referral.reviewed_at.is_not(None))
    opens = grouped(ReferralOpen, ReferralOpen.created_at, func.count())
    joined = grouped(Referral, Referral.created_at, func.count(),
                     func.sum(case((flagged, 1), else_=0)))
    qualified = grouped(Referral, Referral.qualified_at, func.count(),
                        where=[Referral.qualified_at.is_not(None)])
    reversed_ = grouped(Referral, Referral.reversed_at, func.count(), where=[Referral.reversed_at.is_not(None)])
    paid = grouped(LedgerEntry, LedgerEntry.created_at,
                   func.sum(case((LedgerEntry.currency == "points", LedgerEntry.amount), else_=0)),
                   func.sum(case((LedgerEntry.currency == "credit", LedgerEntry.amount), else_=0)),
                   where=[LedgerEntry.source_type == "referral", LedgerEntry.amount > 0])
    rows = []
    for n, b in enumerate(bs):
        signups, held = joined.get(n, (0, 0))
        points, credit = paid.get(n, (0, 0))
        rows.append(Row(b, opens=opens.get(n, (0,))[0], signups=signups, held=held,
                        qualified=qualified.get(n, (0,))[0], reversed=reversed_.get(n, (0,))[0],
                        points_paid=points, credit_paid=credit))
    return rows


def _sum_rows(rows: list[Row], bs: list[Bucket]) -> Row:
    total = Row(Bucket(bs[0].start, bs[-1].end, bs[0].day))
    for r in rows:
        for name in ("opens", "signups", "held", "qualified", "reversed", "points_paid", "credit_paid"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    return total


def _in(column, since: datetime, until: datetime):
    return and_(column >= since, column < until)


def _leaders(owner, since: datetime, until: datetime, n: int):
    """The top `n` link owners of the period as (id, sign-ups, qualified), in one
    scan (a short period reads the two time indexes as a bitmap OR, a long one
    the table once); ranked before any name is joined."""
    joined, qualified = _in(Referral.created_at, since, until), _in(Referral.qualified_at, since, until)
    signups = func.sum(case((joined, 1), else_=0))
    friends = func.sum(case((qualified, 1), else_=0))
    return (select(owner.label("id"), signups.label("signups"), friends.label("qualified"))
            .where(owner.is_not(None), or_(joined, qualified))
            .group_by(owner).order_by(friends.desc(), signups.desc(), owner).limit(n)
            .subquery())


def top_referrers(session: Session, since: datetime, until: datetime, n: int = TOP) -> list[Leader]:
    """Members whose friends joined or qualified in the period, most qualified first."""
    top = _leaders(Referral.referrer_id, since, until, n)
    rows = session.execute(
        select(top.c.id, Member.display_name, top.c.signups, top.c.qualified)
        .join(Member, Member.id == top.c.id)
        .order_by(top.c.qualified.desc(), top.c.signups.desc(), top.c.id)
    ).all()
    opens = dict(session.execute(
        select(ReferralOpen.referrer_id, func.count()).where(
            ReferralOpen.referrer_id.in_([r.id for r in rows]), _in(ReferralOpen.created_at, since, until))
        .group_by(ReferralOpen.referrer_id)
    ).all()) if rows else {}
    return [Leader(r.id, r.display_name or "", int(r.signups), int(r.qualified), opens.get(r.id, 0))
            for r in rows]


def top_marketers(session: Session, since: datetime, until: datetime, n: int = TOP) -> list[Leader]:
    top = _leaders(Referral.marketer_id, since, until, n)
    rows = session.execute(
        select(top.c.id, Marketer.name, top.c.signups, top.c.qualified)
        .join(Marketer, Marketer.id == top.c.id)
        .order_by(top.c.qualified.desc(), top.c.signups.desc(), top.c.id)
    ).all()
    ids = [r.id for r in rows]
    opens, earned = {}, {}
    if ids:
        opens = dict(session.execute(
            select(ReferralOpen.marketer_id, func.count()).where(
                ReferralOpen.marketer_id.in_(ids), _in(ReferralOpen.created_at, since, until))
            .group_by(ReferralOpen.marketer_id)).all())
        earned = dict(session.execute(
            select(MarketerEntry.marketer_id, func.sum(MarketerEntry.amount)).where(
                MarketerEntry.marketer_id.in_(ids), MarketerEntry.kind.in_(("commission", "reversal")),
                _in(MarketerEntry.created_at, since, until))
            .group_by(MarketerEntry.marketer_id)).all())
    return [Leader(r.id, r.name, int(r.signups), int(r.qualified), opens.get(r.id, 0), int(earned.get(r.id) or 0))
            for r in rows]


def share_channels(session: Session, since: datetime, until: datetime) -> list[tuple[str, int]]:
    return [(channel, int(n)) for channel, n in session.execute(
        select(ReferralShare.channel, func.count()).where(_in(ReferralShare.created_at, since, until))
        .group_by(ReferralShare.channel).order_by(func.count().desc(), ReferralShare.channel))]


def queue_size_query() -> Select:
    """How many referrals wait for review (also one column of the staff dashboard's totals)."""
    return select(func.count()).select_from(Referral).where(Referral.status == "held")


def queue_size(session: Session) -> int:
    return session.scalar(queue_size_query()) or 0


def report(session: Session, period: str, now: datetime, tz: str | None = None) -> Report:
    bs = buckets(period, now, tz)
    rows = funnel_by_period(session, bs)
    since, until = bs[0].start, bs[-1].end
    return Report(period=period, rows=rows, total=_sum_rows(rows, bs),
                  top_referrers=top_referrers(session, since, until),
                  top_marketers=top_marketers(session, since, until),
                  channels=share_channels(session, since, until), queue=queue_size(session))


REPORT_COLUMNS = ("period_start", "opens", "signups", "held", "qualified", "reversed", "points_paid",
                  "credit_paid", "signup_rate_percent", "qualified_rate_percent")


def report_csv_rows(rep: Report):
    for r in rep.rows:
        yield (r.bucket.day.isoformat(), r.opens, r.signups, r.held, r.qualified, r.reversed, r.points_paid,
               r.credit_paid, f"{r.signup_percent:.2f}", f"{r.qualified_percent:.2f}")


# -- the list and the review queue ---------------------------------------------

Friend = aliased(Member, name="friend")
Referrer = aliased(Member, name="referrer")


def listing(status: str | None = None, since: datetime | None = None) -> Select:
    """Referrals newest first with who is who (one query; page it or stream it)."""
    query = (
        select(Referral.id, Referral.status, Referral.created_at, Referral.qualified_at, Referral.flags,
               Referral.campaign, Referral.friend_id, Friend.display_name.label("friend_name"),
               Friend.email.label("friend_email"), Friend.mobile.label("friend_mobile"),
               Referral.referrer_id, Referrer.display_name.label("referrer_name"),
               Referral.marketer_id, Marketer.name.label("marketer_name"),
               Referral.reviewed_by, Referral.review_note, Referral.ip_hash, Referral.visitor)
        .join(Friend, Friend.id == Referral.friend_id)
        .outerjoin(Referrer, Referrer.id == Referral.referrer_id)
        .outerjoin(Marketer, Marketer.id == Referral.marketer_id)
        .order_by(Referral.id.desc())
    )
    if status:
        query = query.where(Referral.status == status)
    if since is not None:
        query = query.where(Referral.created_at >= since)
    return query


LIST_COLUMNS = ("id", "status", "joined_at", "qualified_at", "friend_id", "friend_name", "friend_email",
                "referrer_id", "referrer_name", "marketer_id", "marketer_name", "campaign", "flags",
                "reviewed_by", "review_note")


def list_csv_row(r) -> tuple:
    return (r.id, r.status, r.created_at.isoformat(), r.qualified_at.isoformat() if r.qualified_at else "",
            r.friend_id, r.friend_name or "", r.friend_email or r.friend_mobile or "", r.referrer_id or "",
            r.referrer_name or "", r.marketer_id or "", r.marketer_name or "", r.campaign or "",
            " ".join(r.flags or ()), r.reviewed_by or "", r.review_note or "")


def held_queue() -> Select:
    """Held referrals, oldest first: they have waited longest."""
    return listing("held").order_by(None).order_by(Referral.created_at, Referral.id)


@dataclass(frozen=True)
class Matches:
    same_ip: int = 0  # other referrals from the same address (hash)
    same_device: int = 0  # other referrals from the same device cookie
    device_members: int = 0  # members who used that device, the friend included


def matches(session: Session, rows) -> dict[int, Matches]:
    """For a page of referrals: how many others share their address or device
    (three grouped queries for the whole page)."""
    ips = {r.ip_hash for r in rows if r.ip_hash}
    visitors = {r.visitor for r in rows if r.visitor}
    by_ip = dict(session.execute(select(Referral.ip_hash, func.count()).where(Referral.ip_hash.in_(ips))
                                 .group_by(Referral.ip_hash)).all()) if ips else {}
    by_device = dict(session.execute(select(Referral.visitor, func.count()).where(Referral.visitor.in_(visitors))
                                     .group_by(Referral.visitor)).all()) if visitors else {}
    members = dict(session.execute(
        select(MemberDevice.visitor, func.count(func.distinct(MemberDevice.member_id)))
        .where(MemberDevice.visitor.in_(visitors)).group_by(MemberDevice.visitor)).all()) if visitors else {}
    return {r.id: Matches(same_ip=max(by_ip.get(r.ip_hash, 1) - 1, 0) if r.ip_hash else 0,
                          same_device=max(by_device.get(r.visitor, 1) - 1, 0) if r.visitor else 0,
                          device_members=members.get(r.visitor, 0) if r.visitor else 0)
            for r in rows}
