"""Referral figures: a link owner's funnel and the monthly referrer board.
Staff and marketer figures are a few aggregate queries over the rows; a
member's own funnel is read from their counters (tally.py), and the month's
board from a short per-process cache (`standings`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from webapp.models import LedgerEntry, Member, Referral, ReferralOpen, ReferrerTally

BOARD_SIZE = 10


@dataclass(frozen=True)
class Funnel:
    opens: int = 0
    signups: int = 0
    pending: int = 0  # joined, may still qualify
    held: int = 0  # waiting for staff review
    qualified: int = 0
    reversed: int = 0
    points_earned: int = 0  # by the referrer, net of reversals
    credit_earned: int = 0

    @property
    def conversion_bp(self) -> int:
        """Qualified friends per link open, in basis points."""
        return self.qualified * 10_000 // self.opens if self.opens else 0


def funnel(session: Session, *, referrer_id: int | None = None, marketer_id: int | None = None,
           campaign: str | None = None, since: datetime | None = None, until: datetime | None = None) -> Funnel:
    """One owner's funnel (a member or a marketer, optionally one campaign), or
    the whole club's when neither is given; `since`/`until` bound the open and
    join times."""

    def narrowed(model) -> list:
        wanted = {"referrer_id": referrer_id, "marketer_id": marketer_id, "campaign": campaign}
        conditions = [getattr(model, name) == value for name, value in wanted.items() if value is not None]
        if since is not None:
            conditions.append(model.created_at >= since)
        if until is not None:
            conditions.append(model.created_at < until)
        return conditions

    opens = select(func.count(ReferralOpen.id)).where(*narrowed(ReferralOpen))
    joined = select(
        func.count(Referral.id),
        *(func.coalesce(func.sum(case((Referral.status == s, 1), else_=0)), 0)
          for s in ("pending", "held", "qualified", "reversed")),
    ).where(*narrowed(Referral))
    signups, pending, held, qualified, reversed_ = (int(v) for v in session.execute(joined).one())
    earned = {"points": 0, "credit": 0}
    if referrer_id is not None:
        earned.update(referrer_earnings(session, referrer_id))
    return Funnel(opens=session.scalar(opens), signups=signups, pending=pending, held=held,
                  qualified=qualified, reversed=reversed_, points_earned=earned["points"],
                  credit_earned=earned["credit"])


def member_funnel(tally: ReferrerTally) -> Funnel:
    """A member's own funnel, from the counters kept with their row."""
    return Funnel(opens=tally.opens, signups=tally.signups, pending=tally.pending, held=tally.held,
                  qualified=tally.qualified, reversed=tally.reversed, points_earned=tally.points_earned,
                  credit_earned=tally.credit_earned)


def referrer_earnings(session: Session, member_id: int) -> dict[str, int]:
    """Net points and credit the member received as a referrer (gifts to them as
    a friend are keyed `…:friend` and not counted)."""
    rows = session.execute(
        select(LedgerEntry.currency, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.member_id == member_id, LedgerEntry.source_type == "referral",
               LedgerEntry.idempotency_key.like("referral:%:referrer%"))
        .group_by(LedgerEntry.currency)
    )
    return {currency: int(total) for currency, total in rows}


@dataclass(frozen=True)
class BoardRow:
    rank: int
    member_id: int
    name: str
    qualified: int


def monthly_board(session: Session, month: str, *, n: int | None = BOARD_SIZE) -> list[BoardRow]:
    """The month's top referrers by friends qualified (and not reversed). Ties
    share a rank; among them the earlier qualifier is listed first."""
    counted = (
        select(Referral.referrer_id.label("member_id"), func.count(Referral.id).label("qualified"),
               func.min(Referral.qualified_at).label("first_at"))
        .where(Referral.qualified_month == month, Referral.status == "qualified",
               Referral.referrer_id.is_not(None))
        .group_by(Referral.referrer_id)
        .subquery()
    )
    ranked = select(
        counted.c.member_id, counted.c.qualified, Member.display_name,
        func.rank().over(order_by=counted.c.qualified.desc()).label("rank"),
    ).join(Member, Member.id == counted.c.member_id).order_by(
        counted.c.qualified.desc(), counted.c.first_at, counted.c.member_id)
    if n is not None:
        ranked = ranked.limit(n)
    return [BoardRow(rank=r.rank, member_id=r.member_id, name=r.display_name or "", qualified=r.qualified)
            for r in session.execute(ranked)]


def rank_in_month(session: Session, month: str, member_id: int) -> tuple[int, int] | None:
    """(rank, friends qualified) of one member in the month, None without any."""
    mine = session.scalar(
        select(func.count(Referral.id)).where(Referral.qualified_month == month, Referral.status == "qualified",
                                              Referral.referrer_id == member_id)
    )
    if not mine:
        return None
    per_referrer = (
        select(func.count(Referral.id).label("qualified"))
        .where(Referral.qualified_month == month, Referral.status == "qualified",
               Referral.referrer_id.is_not(None))
        .group_by(Referral.referrer_id).subquery()
    )
    ahead = session.scalar(select(func.count()).select_from(per_referrer).where(per_referrer.c.qualified > mine))
    return ahead + 1, mine


# -- the month's standings, cached per process ------------------------------------

# Ranking every referrer of the month grows with the members, and /invite shows it
# to everyone: each process keeps the month's standings for STANDINGS_TTL seconds.
# A qualification or reversal in this process clears them at once (clear_standings);
# other processes show it within the TTL. The prize job reads the rows (monthly_board).
STANDINGS_TTL = 60.0
_standings: dict[str, tuple[float, list[BoardRow], dict[int, tuple[int, int]]]] = {}


def standings(session: Session, month: str) -> tuple[list[BoardRow], dict[int, tuple[int, int]]]:
    """The month's top BOARD_SIZE and every referrer's (rank, friends qualified)."""
    cached = _standings.get(month)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    rows = monthly_board(session, month, n=None)
    ranks = {r.member_id: (r.rank, r.qualified) for r in rows}
    _standings.clear()  # only the current month is ever asked for
    _standings[month] = (time.monotonic() + STANDINGS_TTL, rows[:BOARD_SIZE], ranks)
    return rows[:BOARD_SIZE], ranks


def clear_standings() -> None:
    _standings.clear()
