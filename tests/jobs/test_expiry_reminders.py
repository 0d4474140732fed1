"""The daily expiry reminders, enqueued on the real test Redis and run by a real
RQ worker in burst mode: one inbox message per member, expiry day and threshold
(30 or 7 days), and a second run posts nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rq.job import JobStatus
from sqlalchemy import func, select

from webapp.jobs import get_queue
from webapp.jobs.reminders import post_expiry_reminders, remind_expiring_points
from webapp.models import InboxMessage, Member
from webapp.services import ledger


def run_reminders(app, run_worker):
    with app.app_context():
        job = get_queue("default").enqueue(remind_expiring_points)
    run_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    return job.return_value()


def messages(session):
    session.rollback()  # see what the worker committed
    rows = session.scalars(select(InboxMessage).order_by(InboxMessage.member_id, InboxMessage.key)).all()
    return [(m.member_id, m.kind, m.params["points"], m.params["days"], m.key) for m in rows]


def local_day(app, when: datetime) -> str:
    return when.astimezone(ZoneInfo(app.config["VAFA_TIMEZONE"])).date().isoformat()


def local_noon(app, days: int) -> datetime:
    """Noon in the club's time zone `days` from today: far from any midnight."""
    zone = ZoneInfo(app.config["VAFA_TIMEZONE"])
    day = (datetime.now(zone) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).astimezone(UTC)


def test_reminders_go_out_30_and_7_days_ahead_once_per_member_day_and_threshold(
        app, session, make_member, run_worker):
    real_now = datetime.now(UTC)
    in_3, in_5, in_20 = local_noon(app, 3), local_noon(app, 5), local_noon(app, 20)
    alice, bob, carol = make_member(), make_member(), make_member()
    # alice: one partly spent lot in 3 days, one in 5 days, two on the same day in
    # 20 days, one far away, one already past (the expiry job's business), one forever
    past = real_now - timedelta(days=100)
    ledger.award_points(session, alice.id, 100, key="a-1", now=past, expires_at=in_3)
    ledger.spend_points(session, alice.id, 60, key="a-spend", now=past)
    ledger.award_points(session, alice.id, 70, key="a-2", now=past, expires_at=in_5)
    ledger.award_points(session, alice.id, 30, key="a-3", now=past, expires_at=in_20)
    ledger.award_points(session, alice.id, 12, key="a-3b", now=past, expires_at=in_20 + timedelta(hours=3))
    ledger.award_points(session, alice.id, 999, key="a-far", now=past, expires_at=local_noon(app, 45))
    ledger.award_points(session, alice.id, 5, key="a-past", now=past, expires_at=real_now - timedelta(hours=1))
    ledger.award_points(session, alice.id, 8, key="a-forever", now=past)
    # bob: a fully spent lot (nothing to remind) and one in 20 days
    ledger.award_points(session, bob.id, 40, key="b-1", now=past, expires_at=in_5)
    ledger.spend_points(session, bob.id, 40, key="b-spend", now=past)
    ledger.award_points(session, bob.id, 25, key="b-2", now=past, expires_at=in_20)
    # carol closed her account: no reminders
    ledger.award_points(session, carol.id, 50, key="c-1", now=past, expires_at=in_5)
    session.get(Member, carol.id).status = "closed"
    session.commit()

    first = run_reminders(app, run_worker)

    d3, d5, d20 = local_day(app, in_3), local_day(app, in_5), local_day(app, in_20)
    expected = sorted([
        (alice.id, "points_expiring", 40, 7, f"expiry-reminder:{alice.id}:{d3}:7"),
        (alice.id, "points_expiring", 70, 7, f"expiry-reminder:{alice.id}:{d5}:7"),
        (alice.id, "points_expiring", 42, 30, f"expiry-reminder:{alice.id}:{d20}:30"),
        (bob.id, "points_expiring", 25, 30, f"expiry-reminder:{bob.id}:{d20}:30"),
    ], key=lambda row: (row[0], row[4]))
    assert first == 4
    assert messages(session) == expected
    stored = session.scalar(select(InboxMessage).where(InboxMessage.key.endswith(f"{d20}:30"),
                                                       InboxMessage.member_id == alice.id))
    assert datetime.fromisoformat(stored.params["expires_at"]) == in_20  # the day's first lot
    assert stored.read_at is None

    second = run_reminders(app, run_worker)

    assert second == 0
    assert messages(session) == expected
    assert ledger.find_mismatches(session) == []


def test_the_7_day_reminder_follows_the_30_day_one_as_the_date_comes_closer(app, session, make_member):
    tz = app.config["VAFA_TIMEZONE"]
    start = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    expires = start + timedelta(days=25)
    member = make_member()
    ledger.award_points(session, member.id, 300, key="lot", now=start - timedelta(days=300),
                        expires_at=expires)
    session.commit()

    sent = [post_expiry_reminders(session, now=start + timedelta(days=day), tz=tz) for day in range(26)]
    session.commit()

    # day 0: 30-day reminder; day 18 (7 days before): 7-day reminder; nothing else
    assert [day for day, n in enumerate(sent) if n] == [0, 18]
    assert sum(sent) == 2
    keys = session.scalars(select(InboxMessage.key).order_by(InboxMessage.id)).all()
    assert keys == [f"expiry-reminder:{member.id}:2026-11-26:30", f"expiry-reminder:{member.id}:2026-11-26:7"]


def test_no_open_lots_no_reminders(app, session, make_member, run_worker):
    make_member(points=100)  # never expires
    make_member(points=100, expires_at=datetime.now(UTC) + timedelta(days=31, hours=1))

    assert run_reminders(app, run_worker) == 0
    assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0


def test_reminders_for_more_members_than_one_batch(app, session, make_member):
    from webapp.services.members.inbox import BATCH

    tz = app.config["VAFA_TIMEZONE"]
    now = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    members = [make_member() for _ in range(BATCH // 25 + 1)]
    for member in members:  # one lot a day for 26 days: more messages than one batch
        for day in range(1, 27):
            ledger.award_points(session, member.id, day, key=f"lot-{member.id}-{day}",
                                now=now - timedelta(days=1), expires_at=now + timedelta(days=day))
    session.commit()

    posted = post_expiry_reminders(session, now=now, tz=tz)
    session.commit()

    assert posted == len(members) * 26 > BATCH
    assert session.scalar(select(func.count()).select_from(InboxMessage)) == posted
    sevens = session.scalar(select(func.count()).where(InboxMessage.key.endswith(":7")))
    assert sevens == len(members) * 7
    assert sum(m.params["points"] for m in session.scalars(select(InboxMessage))) == len(members) * 351
    assert post_expiry_reminders(session, now=now, tz=tz) == 0


def test_the_reminders_are_scheduled_daily_in_the_cron_config(app):
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=app.extensions["vafa_redis"])
    scheduler.load_config_from_file("webapp.jobs.cron_config")
    jobs = {job.func: job for job in scheduler.get_jobs()}
    assert remind_expiring_points in jobs
    assert jobs[remind_expiring_points].cron == "0 5 * * *"
