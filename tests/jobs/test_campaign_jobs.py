"""The campaign jobs with real Redis and a real RQ worker in burst mode: the
minute cron starts due campaigns, a run repeated gives the same totals, and a
failure is recorded on the campaign and can be retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.job import JobStatus
from sqlalchemy import func, select

from webapp.jobs import get_queue
from webapp.jobs.campaigns import enqueue_run, job_id, run_campaign, start_due_campaigns
from webapp.models import Campaign, CampaignMember, InboxMessage, LedgerEntry
from webapp.services import ledger
from webapp.services.members import audit
from webapp.services.offers import campaigns
from webapp.services.offers.campaigns import CampaignDraft


def schedule(session, *, start, **changes) -> int:
    values = {"name": "Welcome back", "kind": "bonus", "segment_id": None, "starts_at": start,
              "ends_at": start + timedelta(days=7), "bonus_points": 40, "message_fa": "سلام",
              "message_en": "Hello", "control_percent": 20, "budget_points": 500}
    campaign = campaigns.create_campaign(session, CampaignDraft(**{**values, **changes}), actor=audit.CLI,
                                         now=start)
    campaigns.schedule_campaign(session, campaign.id, actor=audit.CLI, now=start)
    session.commit()
    return campaign.id


def enqueue(app, func, *args, **kwargs):
    with app.app_context():
        return get_queue("default").enqueue(func, *args, **kwargs)


def totals(session, campaign_id):
    session.rollback()
    campaign = session.get(Campaign, campaign_id)
    session.refresh(campaign)
    return {
        "status": campaign.status, "done": campaign.members_done, "total": campaign.members_total,
        "awarded": campaign.points_awarded,
        "ledger": session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.source_type == "campaign")),
        "entries": session.scalar(select(func.count()).select_from(LedgerEntry)
                                  .where(LedgerEntry.source_type == "campaign")),
        "messages": session.scalar(select(func.count()).select_from(InboxMessage)
                                   .where(InboxMessage.kind == "campaign")),
        "control": session.scalar(select(func.count()).select_from(CampaignMember)
                                  .where(CampaignMember.in_control)),
    }


def test_the_campaign_job_run_twice_by_a_worker_gives_the_same_totals(app, session, make_member, run_worker):
    for _ in range(25):
        make_member()
    campaign_id = schedule(session, start=datetime.now(UTC) - timedelta(minutes=1))
    cron = enqueue(app, start_due_campaigns)
    run_worker()  # the cron job enqueues the run; the burst worker drains both
    assert cron.get_status() == JobStatus.FINISHED
    assert cron.return_value()["enqueued"] == [campaign_id]
    first = totals(session, campaign_id)
    # 25 members, 5 held out; the budget of 500 pays 12 bonuses of 40, the other 8 are recorded unpaid
    assert first == {"status": "done", "done": 20, "total": 20, "awarded": 480, "ledger": 480, "entries": 12,
                     "messages": 12, "control": 5}

    again = enqueue(app, run_campaign, campaign_id, 3)
    enqueue(app, start_due_campaigns)
    run_worker()
    assert again.get_status() == JobStatus.FINISHED
    assert totals(session, campaign_id) == first
    assert ledger.find_mismatches(session) == []
    control = set(session.scalars(select(CampaignMember.member_id).where(CampaignMember.in_control)))
    assert not control & set(session.scalars(select(LedgerEntry.member_id)
                                             .where(LedgerEntry.source_type == "campaign")))


def test_a_run_in_small_chunks_commits_progress_and_matches_one_big_run(app, session, make_member, run_worker):
    for _ in range(9):
        make_member()
    campaign_id = schedule(session, start=datetime.now(UTC), control_percent=0, budget_points=None)
    job = enqueue(app, run_campaign, campaign_id, 2, job_id=job_id(campaign_id))
    run_worker()
    assert job.return_value() == {"campaign": campaign_id, "status": "done", "members_total": 9,
                                  "members_done": 9, "points_awarded": 360}
    assert totals(session, campaign_id)["entries"] == 9


def test_the_cron_does_not_start_a_campaign_before_its_time(app, session, make_member, run_worker):
    make_member()
    campaign_id = schedule(session, start=datetime.now(UTC) + timedelta(hours=2))
    enqueue(app, start_due_campaigns)
    run_worker()
    assert totals(session, campaign_id)["status"] == "scheduled"


def test_a_failing_run_marks_the_campaign_failed_and_a_retry_finishes_it(app, session, make_member, run_worker):
    ids = [make_member().id for _ in range(4)]
    campaign_id = schedule(session, start=datetime.now(UTC), control_percent=0, budget_points=None)
    # the key the campaign will use for the first member, taken by another amount: the bulk award refuses
    ledger.award_points(session, ids[0], 7, key=f"campaign:{campaign_id}:member:{ids[0]}", now=datetime.now(UTC))
    session.commit()
    with app.app_context():
        assert enqueue_run(campaign_id)
        assert not enqueue_run(campaign_id)  # already waiting: not enqueued twice
    run_worker()
    failed = totals(session, campaign_id)
    assert (failed["status"], failed["done"], failed["awarded"]) == ("failed", 0, 0)
    assert "IdempotencyConflict" in session.get(Campaign, campaign_id).error

    session.execute(LedgerEntry.__table__.update().where(LedgerEntry.member_id == ids[0])
                    .values(idempotency_key="moved-aside"))
    campaigns.retry_campaign(session, campaign_id, actor=audit.CLI, now=datetime.now(UTC))
    session.commit()
    with app.app_context():
        assert enqueue_run(campaign_id)
    run_worker()
    assert totals(session, campaign_id)["status"] == "done"
    assert totals(session, campaign_id)["awarded"] == 160


def test_the_cron_ends_live_offers_past_their_end(app, session, make_member, run_worker):
    from webapp.models import Reward

    make_member()
    item = Reward(kind="credit", name_fa="اعتبار", name_en="Credit", cost_points=100, value=10, status="active")
    session.add(item)
    session.commit()
    start = datetime.now(UTC) - timedelta(days=8)
    campaign_id = schedule(session, start=start, kind="offer", reward_id=item.id, offer_cost_points=50,
                           message_fa=None, message_en=None)
    campaigns.begin_campaign(session, campaign_id, now=start)
    session.commit()
    job = enqueue(app, start_due_campaigns)
    run_worker()
    assert job.return_value() == {"ended": [campaign_id], "enqueued": []}
    assert totals(session, campaign_id)["status"] == "done"
