"""RQ jobs. Each takes ids only, checks state first (safe to run twice), commits,
and is enqueued only after the rows it needs are committed."""

from __future__ import annotations

from flask import current_app
from rq import Queue

QUEUES = ("high", "default", "low")


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=current_app.extensions["vafa_redis"])
