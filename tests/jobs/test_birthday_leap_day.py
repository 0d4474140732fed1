"""Birthdays on leap days. The job celebrates the Gregorian anniversary in the
club's time zone: a 29 February birthday on 28 February in common years (still
in the member's birthday month, before the day has passed) and on the day itself
in leap years; once a year either way. A Jalali leap-day birthday (30 Esfand)
is a 20 or 21 March, a day every Gregorian year has."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import jdatetime
from sqlalchemy import select

from tests.factories import add_birthday_rule, set_birthday
from webapp.jobs.birthdays import award_birthdays_on
from webapp.models import LedgerEntry

TZ = "Asia/Tehran"


def tehran_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 8, 30, tzinfo=UTC)  # 12:00 in Tehran


def awarded_years(session, member_id) -> list[str]:
    keys = session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.member_id == member_id)
                           .order_by(LedgerEntry.id))
    return sorted(key.split(":")[2] for key in keys)  # keys: birthday:{member}:{year}:rule:{family}


def celebrate(session, first: date, last: date) -> None:
    day = first
    while day <= last:
        award_birthdays_on(session, now=tehran_noon(day), tz=TZ)
        day += timedelta(days=1)


def test_a_29_february_birthday_is_celebrated_once_a_year_in_leap_and_common_years(session, make_member):
    leap = make_member()
    add_birthday_rule(session, tehran_noon(date(2026, 1, 1)))
    set_birthday(session, leap.id, date(2000, 2, 29))

    for year in (2027, 2028):  # common, leap
        assert award_birthdays_on(session, now=tehran_noon(date(year, 2, 27)), tz=TZ) == 0
    # leap year: not on the 28th, on the day itself
    assert award_birthdays_on(session, now=tehran_noon(date(2028, 2, 28)), tz=TZ) == 0
    assert award_birthdays_on(session, now=tehran_noon(date(2028, 2, 29)), tz=TZ) == 1
    # the whole of February and March, every day, two years running: once a year
    celebrate(session, date(2027, 2, 1), date(2027, 3, 31))
    celebrate(session, date(2028, 2, 1), date(2028, 3, 31))
    assert awarded_years(session, leap.id) == ["2027", "2028"]


def test_a_28_february_birthday_is_not_moved_in_a_leap_year(session, make_member):
    plain = make_member()
    add_birthday_rule(session, tehran_noon(date(2026, 1, 1)))
    set_birthday(session, plain.id, date(1999, 2, 28))
    assert award_birthdays_on(session, now=tehran_noon(date(2028, 2, 28)), tz=TZ) == 1
    assert award_birthdays_on(session, now=tehran_noon(date(2028, 2, 29)), tz=TZ) == 0
    assert awarded_years(session, plain.id) == ["2028"]


def test_a_30_esfand_birthday_is_celebrated_every_year(session, make_member):
    born = jdatetime.date(1370, 12, 30).togregorian()  # Jalali leap day = 20 March 1992
    member = make_member()
    add_birthday_rule(session, tehran_noon(date(2026, 1, 1)))
    set_birthday(session, member.id, born)
    for year in (2026, 2027, 2028):  # Jalali 1404-1406 are common years: their Esfand has 29 days
        celebrate(session, date(year, 3, 15), date(year, 3, 25))
    assert awarded_years(session, member.id) == ["2026", "2027", "2028"]
