"""Coupon jobs: the daily expiry of issued coupons past their date."""

from __future__ import annotations

from webapp.extensions import db
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services.offers import rewards


def expire_coupons() -> int:
    """One set-based UPDATE; a second run (or a retried job) finds nothing left."""
    with job_app():
        expired = rewards.expire_coupons(db.session, utcnow())
        db.session.commit()
        return expired
