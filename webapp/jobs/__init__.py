"""RQ jobs. Each takes ids only, checks state first (safe to run twice), commits,
and is enqueued only after the rows it needs are committed."""

from __future__ import annotations

from flask import current_app
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

QUEUES = ("high", "default", "low")
WAITING = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=current_app.extensions["vafa_redis"])


def enqueue_once(func, *args, job_id: str, job_timeout: int, queue: str = "default") -> bool:
    """Enqueue `func(*args)` as `job_id` unless that job is already waiting or
    running (call after committing). Returns whether it was enqueued. The job
    must still be idempotent: a cron and a staff click can race past this check."""
    target = get_queue(queue)
    try:
        if Job.fetch(job_id, connection=target.connection).get_status() in WAITING:
            return False
    except NoSuchJobError:
        pass
    target.enqueue(func, *args, job_id=job_id, job_timeout=job_timeout, result_ttl=86400, failure_ttl=7 * 86400)
    return True
