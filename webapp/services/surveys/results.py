"""What the answers say: the survey's figures, its trend by month (club time),
per segment and per tier, and the comments. Every breakdown is one grouped
statement whatever the number of segments, tiers or months (no N+1)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy import Integer, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from webapp.models import Segment, Survey, SurveyAnswer
from webapp.services.offers import segments
from webapp.services.surveys.rules import Figures, figures

TREND_MONTHS = 12
MAX_PAGE = 50


def _counts(rows) -> dict:
    """(group, score, answers) rows -> {group: {score: answers}}."""
    grouped: dict = defaultdict(dict)
    for group, score, answers in rows:
        grouped[group][int(score)] = int(answers)
    return grouped


def overall(session: Session, survey: Survey) -> Figures:
    rows = session.execute(select(SurveyAnswer.score, func.count()).where(SurveyAnswer.survey_id == survey.id)
                           .group_by(SurveyAnswer.score)).all()
    return figures(survey.kind, {int(s): int(n) for s, n in rows})


CALENDARS = ("gregorian", "jalali")


@dataclass(frozen=True)
class Month:
    """A month of the club's calendar: its year and number there, and its first
    instant (UTC) in the club's time zone."""

    calendar: str
    year: int
    number: int
    starts_at: datetime


def _first_day(calendar: str, year: int, number: int) -> date:
    return jdatetime.date(year, number, 1).togregorian() if calendar == "jalali" else date(year, number, 1)


def months_until(now: datetime, tz: str, count: int = TREND_MONTHS, calendar: str = "gregorian") -> list[Month]:
    """The last `count` months of the calendar (Jalali for a Persian club) in the
    club's time zone, oldest first, the current one last."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    local = jdatetime.date.fromgregorian(date=today) if calendar == "jalali" else today
    year, number = local.year, local.month
    months = []
    for _ in range(count):
        first = datetime.combine(_first_day(calendar, year, number), time(), tzinfo=zone).astimezone(UTC)
        months.append(Month(calendar, year, number, first))
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    return months[::-1]


@dataclass(frozen=True)
class MonthFigures:
    month: Month
    figures: Figures


def trend(session: Session, survey: Survey, *, now: datetime, tz: str, months: int = TREND_MONTHS,
          calendar: str = "gregorian") -> list[MonthFigures]:
    """The figures of each of the last `months` club months (months with no
    answers included, with no score): one grouped statement, the month of an
    answer picked by a CASE over the months' first instants."""
    chosen = months_until(now, tz, months, calendar)
    starts = [m.starts_at for m in chosen]
    bucket = case(*((SurveyAnswer.created_at >= starts[i], i) for i in reversed(range(len(starts)))),
                  else_=-1).label("bucket")
    rows = session.execute(
        select(bucket, SurveyAnswer.score, func.count())
        .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.created_at >= starts[0])
        .group_by(bucket, SurveyAnswer.score)).all()
    grouped = _counts(rows)
    return [MonthFigures(m, figures(survey.kind, grouped.get(i, {}))) for i, m in enumerate(chosen)]


def by_tier(session: Session, survey: Survey) -> dict[int | None, Figures]:
    """Figures per the tier members held when they answered (None: no tier yet)."""
    rows = session.execute(
        select(SurveyAnswer.tier_id, SurveyAnswer.score, func.count())
        .where(SurveyAnswer.survey_id == survey.id)
        .group_by(SurveyAnswer.tier_id, SurveyAnswer.score)).all()
    return {tier: figures(survey.kind, counts) for tier, counts in _counts(rows).items()}


def by_segment(session: Session, survey: Survey, chosen: list[Segment], *, now: datetime) -> dict[int, Figures]:
    """Figures of the answers of members in each segment now (segments are
    computed, never stored): one UNION ALL, a branch per segment."""
    if not chosen:
        return {}
    branches = [
        select(literal(s.id, Integer).label("segment_id"), SurveyAnswer.score, func.count().label("answers"))
        .where(SurveyAnswer.survey_id == survey.id,
               SurveyAnswer.member_id.in_(segments.members_query(s.conditions, now)))
        .group_by(SurveyAnswer.score)
        for s in chosen]
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    grouped = _counts(session.execute(statement).all())
    return {s.id: figures(survey.kind, grouped.get(s.id, {})) for s in chosen}


@dataclass(frozen=True)
class Verbatims:
    rows: list[SurveyAnswer]
    page: int
    has_more: bool


def verbatims(session: Session, survey_id: int, *, page: int = 1, per_page: int = 20) -> Verbatims:
    """The answers with a comment, newest first, a page at a time."""
    page, per_page = max(1, page), max(1, min(per_page, MAX_PAGE))
    rows = list(session.scalars(
        select(SurveyAnswer)
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.comment.is_not(None))
        .order_by(SurveyAnswer.created_at.desc(), SurveyAnswer.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)))
    return Verbatims(rows[:per_page], page, len(rows) > per_page)
