"""The daily coupon-expiry job, enqueued on the real test Redis and run twice by a
real RQ worker in burst mode: issued coupons past their date expire once, and
nothing else changes (coupons still valid, used, cancelled, or without a date)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.job import JobStatus
from sqlalchemy import select

from tests import factories
from webapp.jobs import get_queue
from webapp.jobs.coupons import expire_coupons
from webapp.models import Coupon, Member
from webapp.services.members import audit
from webapp.services.offers import rewards


def enqueue_expiry(app):
    with app.app_context():
        return get_queue("default").enqueue(expire_coupons)


def test_expiry_job_expires_due_coupons_once_and_leaves_the_rest_alone(app, session, make_member, run_worker):
    # the job reads the real clock: coupons are made due by redeeming them in the past
    real_now = datetime.now(UTC)
    weekly = factories.reward(session, real_now - timedelta(days=30), coupon_valid_days=7)
    forever = factories.reward(session, real_now - timedelta(days=30), coupon_valid_days=None, name_en="Forever")
    alice, bob = make_member(points=1_000), make_member(points=1_000)

    def redeem(member, reward, key, days_ago):
        return rewards.redeem_reward(session, member_id=member.id, reward_id=reward.id, request_key=key,
                                     now=real_now - timedelta(days=days_ago)).coupon

    due_a = redeem(alice, weekly, "due-a", 8)  # expired a day ago
    due_b = redeem(bob, weekly, "due-b", 10)
    fresh = redeem(alice, weekly, "fresh", 6)  # a day left
    undated = redeem(bob, forever, "undated", 400)
    used = redeem(alice, weekly, "used", 9)
    rewards.use_coupon(session, used.code, now=real_now - timedelta(days=8, hours=12))
    cancelled = redeem(bob, weekly, "cancelled", 9)
    rewards.cancel_coupon(session, cancelled.id, actor=audit.CLI, now=real_now - timedelta(days=8, hours=12))
    session.commit()
    ids = {"due_a": due_a.id, "due_b": due_b.id, "fresh": fresh.id, "undated": undated.id,
           "used": used.id, "cancelled": cancelled.id}
    balances = {m.id: session.get(Member, m.id).points_balance for m in (alice, bob)}

    def statuses():
        session.expire_all()
        by_id = dict(session.execute(select(Coupon.id, Coupon.status)).all())
        return {name: by_id[cid] for name, cid in ids.items()}

    job = enqueue_expiry(app)
    run_worker()

    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 2
    after_first = statuses()
    assert after_first == {"due_a": "expired", "due_b": "expired", "fresh": "issued", "undated": "issued",
                           "used": "used", "cancelled": "cancelled"}
    # expiry takes nothing back and gives nothing back: the points were spent on the coupon
    assert {m.id: session.get(Member, m.id).points_balance for m in (alice, bob)} == balances
    session.rollback()

    again = enqueue_expiry(app)
    run_worker()

    again.refresh()
    assert again.get_status() == JobStatus.FINISHED
    assert again.return_value() == 0
    assert statuses() == after_first


def test_an_expired_coupon_is_refused_at_the_till_after_the_job(app, session, make_member, run_worker):
    real_now = datetime.now(UTC)
    reward = factories.reward(session, real_now - timedelta(days=30), coupon_valid_days=1)
    member = make_member(points=500)
    coupon = rewards.redeem_reward(session, member_id=member.id, reward_id=reward.id, request_key="k",
                                   now=real_now - timedelta(days=2)).coupon
    session.commit()
    code = coupon.code

    enqueue_expiry(app)
    run_worker()

    session.expire_all()
    assert session.get(Coupon, coupon.id).status == "expired"  # recorded by the job, not just computed
    with pytest.raises(rewards.CouponNotUsable) as refused:
        rewards.use_coupon(session, code, now=real_now)
    assert refused.value.code == "coupon_expired"
    session.rollback()
