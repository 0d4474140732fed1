"""Win-back: members whose last purchase is older than the owner's number of
days get one message per lapse, with the offer the owner chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.job import JobStatus
from sqlalchemy import func, select

from tests import factories
from webapp.jobs import get_queue
from webapp.jobs.messages_winback import send_win_back_messages
from webapp.models import AuditLog, Member, OutboxMessage
from webapp.services import ledger
from webapp.services.ledger.purchases import record_purchase
from webapp.services.members import audit
from webapp.services.messages import winback
from webapp.services.messages.winback import WinBackInvalid, WinBackSettings


def buy(session, member_id, at, ref):
    return record_purchase(session, member_id=member_id, amount=100_000, currency="IRR", occurred_at=at, now=at,
                           external_ref=ref)[0]


def told(session):
    return sorted(tuple(r) for r in session.execute(
        select(OutboxMessage.member_id, OutboxMessage.key).where(OutboxMessage.kind == "win_back",
                                                                 OutboxMessage.channel == "inbox")))


def configure(session, now, **fields):
    return winback.save_win_back_settings(session, WinBackSettings(**fields), actor=audit.CLI, now=now)


def test_only_members_lapsed_past_the_days_are_told_and_only_once(session, now):
    lapsed, recent, never, closed = (factories.member(session) for _ in range(4))
    buy(session, lapsed.id, now - timedelta(days=90), "a1")
    last = buy(session, lapsed.id, now - timedelta(days=61), "a2")
    buy(session, recent.id, now - timedelta(days=90), "b1")
    buy(session, recent.id, now - timedelta(days=10), "b2")
    buy(session, closed.id, now - timedelta(days=90), "c1")
    session.get(Member, closed.id).status = "closed"
    configure(session, now, days=60)
    assert winback.send_win_back(session, now=now) == 1
    assert winback.send_win_back(session, now=now + timedelta(days=1)) == 0  # still the same lapse
    assert told(session) == [(lapsed.id, f"win_back:{lapsed.id}:{last.id}")]
    channels = session.scalars(select(OutboxMessage.channel).where(OutboxMessage.kind == "win_back"))
    assert sorted(channels) == ["email", "inbox", "sms"]
    assert never.id not in {m for m, _ in told(session)}

    # back, then gone again: a new lapse, a new message
    again = buy(session, lapsed.id, now + timedelta(days=2), "a3")
    assert winback.send_win_back(session, now=now + timedelta(days=30)) == 0
    assert winback.send_win_back(session, now=now + timedelta(days=63)) == 2  # recent has lapsed by now too
    assert (lapsed.id, f"win_back:{lapsed.id}:{again.id}") in told(session)


def test_a_bonus_points_offer_pays_each_lapse_once_even_after_the_amount_changes(session, now):
    member = factories.member(session)
    buy(session, member.id, now - timedelta(days=100), "p1")
    configure(session, now, days=60, offer="points", points=50)
    assert winback.send_win_back(session, now=now) == 1
    configure(session, now, days=60, offer="points", points=80)
    assert winback.send_win_back(session, now=now) == 0
    assert ledger.balance_of(session, member.id, "points") == 10 + 50  # the purchase's 10, the bonus once
    params = session.scalar(select(OutboxMessage.params).where(OutboxMessage.kind == "win_back").limit(1))
    assert (params["points"], params["days"]) == (50, 60)


def test_a_reward_offer_names_the_reward(session, now):
    member = factories.member(session)
    reward = factories.reward(session, now, name_en="Free tea", name_fa="چای رایگان")
    buy(session, member.id, now - timedelta(days=40), "r1")
    configure(session, now, days=30, offer="reward", reward_id=reward.id, points=99)
    assert winback.load_win_back_settings(session) == WinBackSettings(30, "reward", reward.id, 0)
    winback.send_win_back(session, now=now)
    params = session.scalar(select(OutboxMessage.params).where(OutboxMessage.kind == "win_back").limit(1))
    assert (params["reward_en"], params["reward_id"], params["path"]) == ("Free tea", reward.id,
                                                                           f"/rewards/{reward.id}")


def test_win_back_is_off_until_the_owner_sets_the_days(session, now):
    member = factories.member(session)
    buy(session, member.id, now - timedelta(days=400), "o1")
    assert winback.send_win_back(session, now=now) == 0
    assert told(session) == []


@pytest.mark.parametrize(("fields", "field"), [
    ({"days": -1}, "days"), ({"days": 30, "offer": "cash"}, "offer"),
    ({"days": 30, "offer": "reward", "reward_id": 999_999}, "reward_id"),
    ({"days": 30, "offer": "points", "points": 0}, "points"),
])
def test_settings_that_cannot_work_are_refused_by_field(session, now, fields, field):
    with pytest.raises(WinBackInvalid) as refused:
        configure(session, now, **fields)
    assert field in refused.value.details["problems"]


def test_saved_settings_are_audited(session, now):
    configure(session, now, days=45)
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "settings.win_back"))
    assert entry.after["days"] == 45


def test_the_daily_job_run_twice_by_a_worker_tells_a_lapse_once(app, session, make_member, run_worker):
    member = make_member()
    real_now = datetime.now(UTC)
    buy(session, member.id, real_now - timedelta(days=50), "j1")
    configure(session, real_now, days=40)
    session.commit()
    jobs = []
    for _ in range(2):
        with app.app_context():
            jobs.append(get_queue("default").enqueue(send_win_back_messages))
        run_worker()
    assert [j.get_status(refresh=True) for j in jobs] == [JobStatus.FINISHED, JobStatus.FINISHED]
    assert [j.return_value() for j in jobs] == [1, 0]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.kind == "win_back")) == 3
