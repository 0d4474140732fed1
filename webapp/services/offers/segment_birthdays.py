"""The segment condition "birthday in these Jalali months" as a small portable SQL
expression over the Gregorian birthday (see the segments module's notes)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import and_, extract, false, or_

from webapp.models import Member

# Gregorian days in calendar order as month*100+day (Feb 29 included)
_CALENDAR = [d.month * 100 + d.day for d in (date(2024, 1, 1) + timedelta(days=i) for i in range(366))]
YEARS = (1900, 2100)


@lru_cache(maxsize=1)
def _jalali_month_table() -> dict[int, dict[int, frozenset[int]]]:
    """mmdd → {Jalali month: Gregorian years (in YEARS) in which that day falls in it}."""
    import jdatetime

    table: dict[int, dict[int, set[int]]] = {d: {} for d in _CALENDAR}
    day, last = date(YEARS[0], 1, 1), date(YEARS[1], 12, 31)
    jday = jdatetime.date.fromgregorian(date=day)
    one = timedelta(days=1)
    # walk once, moving the Jalali date along by hand (much faster than converting each day)
    j_year, j_month, j_day = jday.year, jday.month, jday.day
    while day <= last:
        table[day.month * 100 + day.day].setdefault(j_month, set()).add(day.year)
        day += one
        j_day += 1
        if j_day > _jalali_month_length(j_year, j_month):
            j_day, j_month = 1, j_month + 1
            if j_month > 12:
                j_month, j_year = 1, j_year + 1
    return {d: {m: frozenset(ys) for m, ys in months.items()} for d, months in table.items()}


def _jalali_month_length(year: int, month: int) -> int:
    import jdatetime

    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def in_jalali_months(months: frozenset[int]):
    table = _jalali_month_table()
    mmdd = extract("month", Member.birthday) * 100 + extract("day", Member.birthday)
    year = extract("year", Member.birthday)
    runs, run, partial = [], [], []
    for d in _CALENDAR:
        by_month = table[d]
        every = frozenset().union(*by_month.values())
        inside = frozenset().union(*(ys for m, ys in by_month.items() if m in months))
        if inside == every:
            run.append(d)
            continue
        if run:
            runs.append(run)
            run = []
        if inside:
            outside = every - inside
            partial.append(and_(mmdd == d, year.in_(sorted(inside))) if len(inside) <= len(outside)
                           else and_(mmdd == d, year.not_in(sorted(outside))))
    if run:
        runs.append(run)
    parts = [mmdd.between(r[0], r[-1]) if len(r) > 1 else mmdd == r[0] for r in runs]
    return or_(*parts, *partial) if parts or partial else false()
