"""RQ stores a job's function as a dotted path in Redis. A job queued by the last
release (a delayed draw, a cron run) must still find its function after a
regroup, so these paths are a contract: move a job only with an alias left here."""

import pytest
from rq.utils import import_attribute

# every job function a worker may find in Redis, as queued by the release before
QUEUED_PATHS = [
    "webapp.jobs.birthdays.award_birthdays",
    "webapp.jobs.campaigns.start_due_campaigns",
    "webapp.jobs.campaigns.run_campaign",
    "webapp.jobs.contests.finalise_due_contests",
    "webapp.jobs.contests.finalise_contest",
    "webapp.jobs.coupons.expire_coupons",
    "webapp.jobs.maintenance.purge_idempotency_keys",
    "webapp.jobs.points.expire_points",
    "webapp.jobs.raffles.close_and_draw_due",
    "webapp.jobs.raffles.draw_raffle",
    "webapp.jobs.referrals.expire_referrals",
    "webapp.jobs.referrals.award_referral_board_prizes",
    "webapp.jobs.reminders.remind_expiring_points",
    "webapp.jobs.tiers.evaluate_tiers",
    "webapp.jobs.tiers.award_fee_rebates",
]


@pytest.mark.parametrize("path", QUEUED_PATHS)
def test_a_job_queued_by_the_last_release_still_imports(path):
    assert callable(import_attribute(path))
