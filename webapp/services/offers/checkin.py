"""The daily check-in: once per club-local day, a streak, and the points of the
active `checkin` rules (plus their streak bonuses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from games import streaks
from webapp.models import CheckIn
from webapp.services import ledger, tiers
from webapp.services.errors import DomainError
from webapp.services.members import facts
from webapp.services.offers import earn_rules, rule_engine


class CheckInUnavailable(DomainError):
    """The club has no daily check-in right now."""

    code = "checkin_unavailable"
    status = 409


STREAK_RULE = streaks.StreakRule()  # a missed day breaks the streak


@dataclass(frozen=True)
class CheckInResult:
    day: date
    streak: int
    points: int  # what this check-in earned (0 when it was already done)
    new: bool  # False: the member had already checked in today


@dataclass(frozen=True)
class CardState:
    streak: int  # the running streak (0 once broken)
    checked_in_today: bool
    points_today: int  # points a check-in today gives / gave (before caps), without bonus
    next_bonus: tuple[int, int] | None  # (streak day, extra points)
    days_to_bonus: int | None


def local_today(now: datetime, tz: str | None = None) -> date:
    return now.astimezone(ZoneInfo(tiers.club_timezone(tz))).date()


def _last(session: Session, member_id: int) -> CheckIn | None:
    return session.scalar(select(CheckIn).where(CheckIn.member_id == member_id)
                          .order_by(CheckIn.day.desc()).limit(1))


def last_fact(member_id: int) -> Select:
    """The member's latest check-in, its day as ISO text (`facts`)."""
    latest = select(func.max(CheckIn.day)).where(CheckIn.member_id == member_id).scalar_subquery()
    return select(*facts.fact("checkin", n1=CheckIn.streak, s=cast(CheckIn.day, String(10)))).where(
        CheckIn.member_id == member_id, CheckIn.day == latest)


def last_of(rows) -> CheckIn | None:
    """`last_fact`'s row as a check-in (read-only: never added to a session)."""
    return CheckIn(day=date.fromisoformat(rows[0].s[:10]), streak=int(rows[0].n1)) if rows else None


def _state(row: CheckIn | None) -> streaks.Streak:
    if row is None:
        return streaks.NO_STREAK
    return streaks.Streak(current=row.streak, longest=row.streak, last_day=row.day)


def check_in(session: Session, member_id: int, *, now: datetime, tz: str | None = None) -> CheckInResult:
    """Check the member in for today. A second (or concurrent) check-in on the
    same day changes nothing: the member lock serialises them, and the
    (member, day) primary key would refuse a twin anyway."""
    if not earn_rules.live_rules(session, "checkin"):
        raise CheckInUnavailable()
    ledger.lock_member(session, member_id)
    today = local_today(now, tz)
    last = _last(session, member_id)
    step = streaks.check_in(_state(last), today, STREAK_RULE)
    if not step.counted:
        return CheckInResult(today, last.streak, 0, new=False)
    row = CheckIn(member_id=member_id, day=today, streak=step.streak.current, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return CheckInResult(today, _last(session, member_id).streak, 0, new=False)
    awards = earn_rules.award_for_event(
        session, member_id=member_id, trigger="checkin", event_key=f"checkin:{member_id}:{today}",
        now=now, context={"streak_day": row.streak}, tz=tz)
    return CheckInResult(today, row.streak, sum(a.points for a in awards), new=True)


_UNREAD = object()


def card_state(session: Session, member, *, now: datetime, tz: str | None = None,
               last: CheckIn | None | object = _UNREAD) -> CardState | None:
    """What the check-in card shows; None when no check-in rule is active. `last`:
    the latest check-in when the page read it already (`last_fact`)."""
    rules = earn_rules.live_rules(session, "checkin")
    if not rules:
        return None
    today = local_today(now, tz)
    if last is _UNREAD:
        last = _last(session, member.id)
    done = last is not None and last.day == today
    streak = streaks.current_length(_state(last), today, STREAK_RULE)
    # the first bonus day after the streak so far (today's check-in, if not done, is day streak+1)
    bonuses = [b for b in (rule_engine.next_bonus(r, streak) for r in rules) if b]
    bonus = min(bonuses) if bonuses else None
    level = tiers.member_level(session, member)
    factor = level.earn_multiplier_bp if level else rule_engine.BP
    points = sum(rule_engine.multiply(rule_engine.raw_points(r, 0), (factor,) if r.use_tier_multiplier else ())
                 for r in rules)
    return CardState(streak=streak, checked_in_today=done, points_today=points, next_bonus=bonus,
                     days_to_bonus=(bonus[0] - streak) if bonus else None)
