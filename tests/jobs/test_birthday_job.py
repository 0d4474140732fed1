"""The daily birthday job, run twice by a real RQ worker: members whose birthday
is today in the club's time zone earn the birthday rules once a year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from rq.job import JobStatus
from sqlalchemy import select

from tests.factories import add_birthday_rule, set_birthday
from webapp.extensions import db
from webapp.jobs import get_queue
from webapp.jobs.birthdays import award_birthdays, award_birthdays_on
from webapp.models import LedgerEntry, Member, RuleAward
from webapp.services import ledger

TZ = "Asia/Tehran"


def test_the_job_run_twice_by_a_worker_awards_todays_birthdays_once(app, session, make_member, run_worker):
    today = datetime.now(UTC).astimezone(ZoneInfo(app.config["VAFA_TIMEZONE"])).date()
    born_today, born_tomorrow, closed = make_member(), make_member(), make_member()
    add_birthday_rule(session, datetime.now(UTC))
    set_birthday(session, born_today.id, today.replace(year=1990) if (today.month, today.day) != (2, 29)
                 else date(1992, 2, 29))
    set_birthday(session, born_tomorrow.id, (today + timedelta(days=1)).replace(year=1991))
    set_birthday(session, closed.id, today.replace(year=1985) if (today.month, today.day) != (2, 29)
                 else date(1988, 2, 29))
    session.get(Member, closed.id).status = "closed"
    session.commit()

    jobs = []
    for _ in range(2):
        with app.app_context():
            jobs.append(get_queue("default").enqueue(award_birthdays))
        run_worker()
    assert [j.get_status(refresh=True) for j in jobs] == [JobStatus.FINISHED, JobStatus.FINISHED]
    assert [j.return_value() for j in jobs] == [1, 0]
    session.expire_all()
    keys = list(session.scalars(select(LedgerEntry.idempotency_key)))
    assert keys == [f"birthday:{born_today.id}:{today.year}:rule:{session.scalar(select(RuleAward.family_id))}"]
    assert ledger.balance_of(session, born_today.id, "points") == 500
    assert ledger.balance_of(session, born_tomorrow.id, "points") == 0


def test_birthday_is_the_club_local_day_and_29_february_counts_on_the_28th(session, make_member):
    now = datetime(2027, 2, 27, 21, 0, tzinfo=UTC)  # already 28 February (00:30) in Tehran
    add_birthday_rule(session, now)
    leap, plain = make_member(), make_member()
    set_birthday(session, leap.id, date(2000, 2, 29))
    set_birthday(session, plain.id, date(1999, 2, 28))
    assert award_birthdays_on(session, now=now, tz=TZ) == 2
    assert award_birthdays_on(session, now=now - timedelta(hours=1), tz=TZ) == 0  # 27th locally
    assert award_birthdays_on(session, now=now, tz=TZ) == 0  # already this year


def test_no_birthday_rule_no_work(session, make_member):
    member = make_member()
    now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    set_birthday(session, member.id, date(1990, 5, 1))
    assert award_birthdays_on(session, now=now, tz=TZ) == 0
    assert db.session.scalar(select(LedgerEntry.id)) is None
