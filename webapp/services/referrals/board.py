"""The monthly referrer board's prize: after a club month ends, the top
`board_places` referrers of that month (friends qualified and not reversed)
get the prize the rules name, once.

Ties at the cut: everyone ranked within the places gets the prize (the board
ranks ties alike, 1, 1, 3: with two places and two members tied first, both
are paid and the third is not; with one place and a tie, both are paid), as
contests do. A suspended or closed member keeps their place but is not paid.

Once any prize of a month is recorded the month is settled: later runs pay
nobody, even if a refund since then changed the board. A month is paid only
in the first `PAY_WITHIN_DAYS` days after it ends (the daily job makes up a
missed night or two); later, the rules of the day may not be the month's
(a prize named on the 20th does not pay out last month). The prize rows are
unique per (month, member) and the ledger keys `referral-board:<month>:<member>`
make a second, concurrent run pay nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, ReferralPrize
from webapp.services import messages, tiers
from webapp.services.play import prizes
from webapp.services.referrals import stats
from webapp.services.referrals.rules import load_settings

PAY_WITHIN_DAYS = 7


@dataclass(frozen=True)
class BoardPrize:
    member_id: int
    place: int
    qualified: int
    given: prizes.Given


def previous_month(now: datetime, tz: str | None = None) -> str:
    """The club month before the one `now` falls in ("2026-11")."""
    local = now.astimezone(ZoneInfo(tiers.club_timezone(tz))).date()
    return (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def month_end(month: str, tz: str | None = None) -> datetime:
    """The instant the club month ends (local midnight of the next month's first day)."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(following, time(0), tzinfo=ZoneInfo(tiers.club_timezone(tz)))


def winners(session: Session, month: str, places: int) -> list[stats.BoardRow]:
    """The board's rows ranked within `places`, ties at the cut included."""
    n = places + 10
    while True:
        rows = stats.monthly_board(session, month, n=n)
        if len(rows) < n or rows[-1].rank > places:
            return [r for r in rows if r.rank <= places]
        n *= 2


def award_board_prizes(session: Session, month: str, *, now: datetime, tz: str | None = None) -> list[BoardPrize]:
    """Pay the month's board prize (flushes, never commits). Returns who was paid
    by this call: empty when there is no prize, the month has not ended or ended
    too long ago, or it is settled."""
    end = month_end(month, tz)
    if not end <= now < end + timedelta(days=PAY_WITHIN_DAYS):
        return []
    rules = load_settings(session)
    if rules.board_kind == "none":
        return []
    if session.scalar(select(exists().where(ReferralPrize.month == month))):
        return []
    paid = []
    for row in winners(session, month, rules.board_places):
        member = session.get(Member, row.member_id)
        if member is None or not member.is_active:
            continue
        inserted = session.execute(
            insert_ignoring_duplicates(session, ReferralPrize)
            .values(month=month, member_id=row.member_id, place=row.rank, qualified=row.qualified, created_at=now)
            .on_conflict_do_nothing(index_elements=[ReferralPrize.month, ReferralPrize.member_id])
            .returning(ReferralPrize.id)
        ).scalar_one_or_none()
        if inserted is None:  # a concurrent run got there first
            continue
        key = f"referral-board:{month}:{row.member_id}"
        given = prizes.give(session, member_id=row.member_id, kind=rules.board_kind, amount=rules.board_amount,
                            reward_id=rules.board_reward_id, key=key, now=now, source=("referral_board", month),
                            description=f"Referral board {month}: place {row.rank}")
        if given.kind == "points":
            tiers.on_points_earned(session, row.member_id, kind="earn", now=now)
        messages.notify(session, member_id=row.member_id, kind="referral_board_prize", key=key, now=now,
                           params={"month": month, "place": row.rank, "qualified": row.qualified,
                                   "kind": given.kind, "amount": given.amount, "issued": given.issued})
        paid.append(BoardPrize(row.member_id, row.rank, row.qualified, given))
    session.flush()
    return paid
