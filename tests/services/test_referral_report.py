"""The staff report's periods are the club's days, weeks (Saturday to Friday)
and months, whatever UTC says, and each figure counts its own event time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.helpers.referrals import code_of, join_through, set_rules
from webapp.models import ReferralOpen, ReferralShare
from webapp.services.referrals import report as referral_report

# Tehran is UTC+3:30: a club day starts at 20:30 UTC the day before
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # Wednesday 25 November, 13:00 in Tehran


def test_periods_start_at_club_midnight_and_weeks_on_saturday():
    days = referral_report.buckets("day", NOW, "Asia/Tehran")
    assert len(days) == 14 and days[-1].day == date(2026, 11, 25)
    assert days[-1].start == datetime(2026, 11, 24, 20, 30, tzinfo=UTC)
    weeks = referral_report.buckets("week", NOW, "Asia/Tehran")
    assert weeks[-1].day == date(2026, 11, 21) and weeks[-1].day.weekday() == 5  # Saturday
    assert [b.end for b in weeks[:-1]] == [b.start for b in weeks[1:]]  # no gaps, no overlaps
    months = referral_report.buckets("month", NOW, "Asia/Tehran")
    assert [m.day for m in months[-2:]] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert months[-1].end == datetime(2026, 11, 30, 20, 30, tzinfo=UTC)


def test_the_funnel_counts_each_event_in_the_club_day_it_happened(session, make_member):
    set_rules(session, NOW, qualify_on="signup", referrer_amount=300, friend_amount=100)
    referrer = make_member(now=NOW).id
    for n, when in enumerate((datetime(2026, 11, 24, 20, 29, tzinfo=UTC),  # 23:59 on the 24th, Tehran
                              datetime(2026, 11, 24, 20, 31, tzinfo=UTC),  # 00:01 on the 25th
                              datetime(2026, 11, 25, 8, 0, tzinfo=UTC))):
        session.add(ReferralOpen(link=f"m{referrer}", referrer_id=referrer, visitor=f"v{n}", created_at=when))
    session.add(ReferralShare(member_id=referrer, channel="telegram", created_at=NOW))
    session.commit()
    join_through(session, code_of(session, referrer), datetime(2026, 11, 25, 8, 5, tzinfo=UTC))

    rep = referral_report.report(session, "day", NOW, "Asia/Tehran")
    yesterday, today = rep.rows[-2], rep.rows[-1]
    assert (yesterday.opens, today.opens) == (1, 2)
    assert (today.signups, today.qualified, today.points_paid) == (1, 1, 400)
    assert today.signup_bp == 5_000 and today.qualified_bp == 10_000
    assert rep.total.opens == 3 and rep.channels == [("telegram", 1)] and rep.queue == 0
    [leader] = rep.top_referrers
    assert (leader.id, leader.opens, leader.signups, leader.qualified) == (referrer, 3, 1, 1)
    week = referral_report.report(session, "week", NOW + timedelta(days=7), "Asia/Tehran")
    assert [r.opens for r in week.rows[-2:]] == [3, 0]
