"""Campaign jobs: the minute cron that starts due campaigns, and the run of one
campaign. Both are safe to run twice or at once: each step locks the campaign
row and re-reads its state, and every award has its ledger key."""

from __future__ import annotations

import logging

from webapp.extensions import db
from webapp.jobs import enqueue_once
from webapp.jobs.context import job_app
from webapp.models import Campaign, utcnow
from webapp.services.offers import campaigns

log = logging.getLogger(__name__)
QUEUE = "default"


def job_id(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def enqueue_run(campaign_id: int) -> bool:
    """Enqueue `run_campaign` unless its job is already waiting or running (call
    after committing). Returns whether it was enqueued."""
    return enqueue_once(run_campaign, campaign_id, job_id=job_id(campaign_id), job_timeout=3600, queue=QUEUE)


def start_due_campaigns() -> dict:
    """Every minute: end live offers past their end, then enqueue the run of every
    campaign whose start has come (or whose awarding was interrupted)."""
    with job_app():
        session = db.session
        now = utcnow()
        ended = campaigns.finish_ended_campaigns(session, now)
        due = campaigns.due_campaign_ids(session, now)
        session.commit()
        enqueued = [cid for cid in due if enqueue_run(cid)]
        return {"ended": ended, "enqueued": enqueued}


def run_campaign(campaign_id: int, chunk: int = campaigns.CHUNK) -> dict:
    """Freeze the audience (one transaction), then award bonus points chunk by
    chunk, committing each so admin sees progress and a crash keeps what was done."""
    with job_app():
        session = db.session
        try:
            campaign = campaigns.begin_campaign(session, campaign_id, now=utcnow())
            session.commit()
            if campaign is not None:
                while campaigns.award_next_chunk(session, campaign_id, now=utcnow(), size=chunk):
                    session.commit()
                session.commit()
        except Exception as exc:
            session.rollback()
            log.exception("campaign %s failed", campaign_id)
            campaigns.fail_campaign(session, campaign_id, f"{type(exc).__name__}: {exc}", now=utcnow())
            session.commit()
            raise
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return {"campaign": campaign_id, "status": None}
        session.refresh(campaign)
        return {"campaign": campaign_id, "status": campaign.status, "members_total": campaign.members_total,
                "members_done": campaign.members_done, "points_awarded": campaign.points_awarded}
