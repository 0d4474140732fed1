"""What a program counts (points earned, spend or purchases) over its window,
as one grouped query for one member or for everyone.

What counts:
- points_earned: the signed sum of points entries of kinds `EARNING_KINDS`
  (earned, taken back for a refund, and staff adjustments, which are mostly
  corrections of earning), by entry time. Spending, expiry and conversions do
  not lower it; gifts of credit do not raise it.
- spend: purchase amount minus what was refunded, by purchase time.
- purchases: purchases not fully refunded, by purchase time.
A rolling window counts what happened in the last N days. A calendar window
counts the current period, and a level reached in one period is kept through
the next: downgrades look at max(current period, previous period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, and_, case, func, literal, select
from sqlalchemy.orm import Session

from webapp.models import LedgerEntry, Purchase
from webapp.services.tiers import rules
from webapp.services.tiers.club_day import club_timezone
from webapp.services.tiers.rules import Program
from webapp.services.tiers.sql import not_negative

EARNING_KINDS = ("earn", "reversal", "adjust")
LEAVING_HORIZON_DAYS = 60


@dataclass(frozen=True)
class Windows:
    """Where contributions count. `qualify_start` is where the metric that holds a
    level starts (calendar: the previous period's start), `current_start` where the
    metric the member sees starts; contributions count up to `end` (exclusive) for
    calendar windows and up to `now` (inclusive) for rolling ones."""

    qualify_start: datetime
    current_start: datetime
    end: datetime | None
    now: datetime
    rolling: bool


def windows(program: Program, now: datetime, tz: str | None = None) -> Windows:
    tz = club_timezone(tz)
    start, end = rules.window_bounds(program, now, tz)
    if program.window_kind == "rolling":
        return Windows(start, start, None, now, True)
    previous_start, _ = rules.window_bounds(program, start - timedelta(microseconds=1), tz)
    return Windows(previous_start, start, end, now, False)


def _source(program: Program):
    """(member column, time column, value, filters) of what the metric adds up."""
    if program.metric == "points_earned":
        return (LedgerEntry.member_id, LedgerEntry.created_at, LedgerEntry.amount,
                [LedgerEntry.currency == "points", LedgerEntry.kind.in_(EARNING_KINDS)])
    if program.metric == "spend":
        return (Purchase.member_id, Purchase.occurred_at, Purchase.amount - Purchase.refunded_amount, [])
    return (Purchase.member_id, Purchase.occurred_at, literal(1, BigInteger),
            [Purchase.refunded_amount < Purchase.amount])


# a till's clock may run ahead: the API accepts occurred_at up to a day in the
# future, and such a purchase must still count (and upgrade) at once
CLOCK_SKEW = timedelta(days=1)


def _in_window(time_col, win: Windows, start: datetime):
    if win.rolling:
        return and_(time_col > start, time_col <= win.now + CLOCK_SKEW)
    return and_(time_col >= start, time_col < win.end)


def metric_query(program: Program, win: Windows, member_id: int | None = None):
    """select(member_id, current, qualifying): one grouped pass over the window.
    `current` is the metric the member sees; `qualifying` the one levels are held
    by (calendar: the better of this period and the last)."""
    member_col, time_col, value, filters = _source(program)
    query = select(member_col.label("member_id")).where(
        *filters, _in_window(time_col, win, win.qualify_start))
    if win.rolling:
        current = func.coalesce(func.sum(value), 0)
        query = query.add_columns(not_negative(current).label("current"),
                                  not_negative(current).label("qualifying"))
    else:
        current = func.coalesce(func.sum(case((time_col >= win.current_start, value), else_=0)), 0)
        previous = func.coalesce(func.sum(case((time_col < win.current_start, value), else_=0)), 0)
        query = query.add_columns(
            not_negative(current).label("current"),
            not_negative(case((current >= previous, current), else_=previous)).label("qualifying"))
    if member_id is not None:
        query = query.where(member_col == member_id)
    return query.group_by(member_col)


def member_metrics(session: Session, program: Program, member_id: int, now: datetime,
                   tz: str | None = None) -> tuple[int, int]:
    """(current, qualifying) metric of one member."""
    row = session.execute(metric_query(program, windows(program, now, tz), member_id)).first()
    return (int(row.current), int(row.qualifying)) if row else (0, 0)


def qualifying_metric_of(program: Program, member_id: int, now: datetime, tz: str | None = None):
    """`member_metrics`' qualifying figure as an SQL expression, for the statement
    that moves the member's balance to set it too (it sees the rows written before it)."""
    grouped = metric_query(program, windows(program, now, tz), member_id).subquery()
    return func.coalesce(select(grouped.c.qualifying).scalar_subquery(), 0)


def member_standing(session: Session, program: Program, member_id: int, now: datetime,
                    *, horizon_days: int = LEAVING_HORIZON_DAYS, tz: str | None = None):
    """(current, qualifying, contributions) of one member in one statement: a
    rolling window's sum grouped so that what leaves within the horizon comes
    per time and the rest as one row."""
    if program.window_kind != "rolling":
        return (*member_metrics(session, program, member_id, now, tz), ())
    win = windows(program, now, tz)
    member_col, time_col, value, filters = _source(program)
    leaving = and_(time_col <= win.qualify_start + timedelta(days=horizon_days), time_col <= now)
    bucket = case((leaving, time_col), else_=None)
    rows = session.execute(
        select(bucket, func.sum(value)).where(member_col == member_id, *filters,
                                              _in_window(time_col, win, win.qualify_start))
        .group_by(bucket)).all()
    current = max(sum(int(amount or 0) for _when, amount in rows), 0)
    contributions = tuple(sorted((when, int(amount)) for when, amount in rows if when is not None and amount))
    return current, current, contributions
