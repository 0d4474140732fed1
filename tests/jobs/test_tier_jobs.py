"""The nightly tier evaluation and the fee-rebate job: real Redis, real RQ worker
in burst mode, each run twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import time_machine
from rq.job import JobStatus
from sqlalchemy import func, select

from webapp.jobs import get_queue
from webapp.jobs.tiers import award_fee_rebates, evaluate_tiers
from webapp.models import InboxMessage, Member, TierHistory
from webapp.services import ledger, tiers
from webapp.services.ledger.purchases import record_purchase
from webapp.services.members import audit


def run(app, run_worker, job_func, *args):
    with app.app_context():
        job = get_queue("default").enqueue(job_func, *args)
    run_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    return job.return_value()


def test_the_nightly_job_evaluates_everyone_and_a_second_run_changes_nothing(app, session, make_member,
                                                                              run_worker):
    real_now = datetime.now(UTC)
    tiers.save_program(session, replace(tiers.default_program(), grace_days=0), actor=audit.CLI,
                       now=real_now - timedelta(days=400))
    session.commit()
    gold, lapsed, newcomer = make_member(), make_member(), make_member()
    ledger.award_points(session, gold.id, 4_500, key="g", now=real_now - timedelta(days=3))
    ledger.award_points(session, lapsed.id, 1_200, key="l", now=real_now - timedelta(days=380))
    session.commit()
    tiers.evaluate_all(session, now=real_now - timedelta(days=380))  # lapsed was silver back then
    session.commit()

    first = run(app, run_worker, evaluate_tiers)
    assert (first["members"], first["upgraded"], first["downgraded"]) == (3, 1, 1)
    session.rollback()
    levels = {m.id: tiers.member_level(session, session.get(Member, m.id)).code
              for m in (gold, lapsed, newcomer)}
    assert levels == {gold.id: "gold", lapsed.id: "bronze", newcomer.id: "bronze"}
    counts = (session.scalar(select(func.count()).select_from(TierHistory)),
              session.scalar(select(func.count()).select_from(InboxMessage)))

    second = run(app, run_worker, evaluate_tiers)
    assert (second["upgraded"], second["at_risk"], second["downgraded"], second["metric_changed"]) == (0, 0, 0, 0)
    session.rollback()
    assert (session.scalar(select(func.count()).select_from(TierHistory)),
            session.scalar(select(func.count()).select_from(InboxMessage))) == counts


def test_fee_rebates_default_to_yesterday_in_the_club_time_zone(app, session, make_member):
    program = replace(tiers.default_program(), rebate_money_per_point=100,
                      levels=tuple(replace(lv, perks={**lv.perks, "fee_rebate_bp": 1_000})
                                   for lv in tiers.default_program().levels))
    tiers.save_program(session, program, actor=audit.CLI, now=datetime(2026, 1, 1, tzinfo=UTC))
    member = make_member()
    # 23:50 on 24 Nov in Tehran is 20:20 UTC; 00:10 on 25 Nov is 20:40 UTC
    for hour, minute, fee in ((20, 20, 10_000), (20, 40, 90_000)):
        when = datetime(2026, 11, 24, hour, minute, tzinfo=UTC)
        record_purchase(session, member_id=member.id, amount=1_000, currency="IRR", occurred_at=when,
                        now=when, fee=fee)
    session.commit()
    session.remove()

    with time_machine.travel(datetime(2026, 11, 25, 22, 0, tzinfo=UTC), tick=False):  # 01:30, 26 Nov
        result = award_fee_rebates()
    # the local 25 Nov holds only the 00:10 purchase: 90,000 × 10 % / 100 per point
    assert result == {"day": "2026-11-25", "members": 1, "points": 90}
    with time_machine.travel(datetime(2026, 11, 25, 20, 0, tzinfo=UTC), tick=False):  # 23:30, 25 Nov
        assert award_fee_rebates() == {"day": "2026-11-24", "members": 1, "points": 10}
        assert award_fee_rebates() == {"day": "2026-11-24", "members": 0, "points": 0}


def test_fee_rebates_do_nothing_when_the_program_has_none(app, session, make_member, run_worker):
    tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=datetime.now(UTC))
    member = make_member()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    record_purchase(session, member_id=member.id, amount=1_000, currency="IRR", occurred_at=yesterday,
                    now=yesterday, fee=50_000)
    session.commit()
    assert run(app, run_worker, award_fee_rebates)["points"] == 0
