"""Periodic jobs for `rq cron webapp.jobs.cron_config` (or `vafa cron`).
Run exactly one cron process; the jobs are idempotent anyway."""

from rq import cron

from webapp.jobs.points import expire_points

# 00:30 UTC is 04:00 in Tehran: the quietest hour
cron.register(expire_points, "default", cron="30 0 * * *", name="expire_points")
