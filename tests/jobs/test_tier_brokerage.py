"""The bank-brokerage club of the seed, configured without code: tiers C/B/A on
turnover over the last 90 days, and each day a tier-dependent share of the
day's fees comes back as points. Trades are recorded through the purchase
service (with their fees), upgrades happen at once, and the nightly evaluation
and the fee-rebate job run on a real RQ worker in burst mode — twice."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rq.job import JobStatus
from sqlalchemy import func, select

from webapp.jobs import get_queue
from webapp.jobs.tiers import award_fee_rebates, evaluate_tiers
from webapp.models import InboxMessage, LedgerEntry, Member, TierHistory
from webapp.services import ledger, tiers
from webapp.services.ledger.purchases import record_purchase, refund_purchase
from webapp.services.members import audit
from webapp.services.settings import EarnSettings, save_earn_settings
from webapp.services.tiers.rules import Level, Program

MILLION = 1_000_000
BROKERAGE = Program(
    metric="spend", window_kind="rolling", window_days=90, grace_days=30, allow_overrides=True,
    rebate_money_per_point=1_000,  # one point per 1,000 rials of rebated fees
    levels=(
        Level(0, "C", "سطح ج", "Level C", 0, perks={"fee_rebate_bp": 500}),             # 5 %
        Level(1, "B", "سطح ب", "Level B", 500 * MILLION, perks={"fee_rebate_bp": 1_000}),  # 10 %
        Level(2, "A", "سطح الف", "Level A", 2_000 * MILLION, perks={"fee_rebate_bp": 2_000}),  # 20 %
    ),
)


def run(app, run_worker, func, *args):
    with app.app_context():
        job = get_queue("default").enqueue(func, *args)
    run_worker()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    return job.return_value()


def tally(session):
    session.rollback()  # see what the worker committed
    return tuple(session.scalar(select(func.count()).select_from(t))
                 for t in (LedgerEntry, TierHistory, InboxMessage))


def test_brokerage_tiers_and_daily_fee_rebates(app, session, make_member, run_worker):
    zone = ZoneInfo(app.config["VAFA_TIMEZONE"])
    today = datetime.now(UTC).astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    at = lambda day, hour: datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)  # noqa: E731
    tiers.save_program(session, BROKERAGE, actor=audit.CLI, now=at(today, 1) - timedelta(days=200))
    save_earn_settings(session, EarnSettings(earn_enabled=False), actor=audit.CLI, now=at(today, 1))
    session.commit()
    x, y, z, w = (make_member() for _ in range(4))

    def trade(member, amount, fee, when, ref):
        purchase, _ = record_purchase(session, member_id=member.id, amount=amount, currency="IRR",
                                      occurred_at=when, now=when, fee=fee, external_ref=ref)
        return purchase

    # x: 600M turnover yesterday in two trades → B at the first trade that crosses 500M
    trade(x, 300 * MILLION, 1_234_567, at(yesterday, 9), "x1")
    assert tiers.member_level(session, session.get(Member, x.id)).code == "C"
    trade(x, 300 * MILLION, 765_433, at(yesterday, 11), "x2")
    assert tiers.member_level(session, session.get(Member, x.id)).code == "B"
    # y: 2.5B in one trade → straight to A
    trade(y, 2_500 * MILLION, 5 * MILLION, at(yesterday, 10), "y1")
    # z: 100M yesterday and 450M 95 days ago (out of the window, and together with
    # yesterday's it would have made B); a refunded trade's fee and today's fee do not count
    old = trade(z, 450 * MILLION, 9 * MILLION, at(today, 12) - timedelta(days=95), "z0")
    trade(z, 100 * MILLION, 333_333, at(yesterday, 12), "z1")
    refund_purchase(session, purchase_id=trade(z, 50 * MILLION, 777_000, at(yesterday, 13), "z2").id,
                    now=at(yesterday, 14))
    trade(z, 10 * MILLION, 444_000, at(today, 1), "z3")
    # w: reached A 100 days ago, nothing since: at risk tonight, but keeps A through the grace
    trade(w, 2_100 * MILLION, 0, at(today, 12) - timedelta(days=100), "w0")
    trade(w, 1 * MILLION, MILLION, at(yesterday, 15), "w1")
    session.commit()
    assert {m.id: tiers.member_level(session, session.get(Member, m.id)).code
            for m in (x, y, z, w)} == {x.id: "B", y.id: "A", z.id: "C", w.id: "A"}
    assert old.points_earned == 0  # earning is off in this club: points come from rebates only

    night = run(app, run_worker, evaluate_tiers)
    assert (night["upgraded"], night["at_risk"], night["downgraded"]) == (0, 1, 0)
    rebates = run(app, run_worker, award_fee_rebates, yesterday.isoformat())
    expected = {
        x.id: (1_234_567 + 765_433) * 1_000 // 10_000 // 1_000,  # B 10 % of 2,000,000 → 200
        y.id: 5 * MILLION * 2_000 // 10_000 // 1_000,             # A 20 % → 1,000
        z.id: 333_333 * 500 // (10_000 * 1_000),                   # C 5 % → 16 (rounded down)
        w.id: MILLION * 2_000 // 10_000 // 1_000,                   # A in grace: 200
    }
    assert expected == {x.id: 200, y.id: 1_000, z.id: 16, w.id: 200}
    assert rebates == {"day": yesterday.isoformat(), "members": 4, "points": 1_416}
    assert {m.id: ledger.balance_of(session, m.id, "points") for m in (x, y, z, w)} == expected
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.member_id == y.id))
    assert (entry.kind, entry.source_type, entry.idempotency_key) == (
        "earn", "fee_rebate", f"fee-rebate:{yesterday.isoformat()}:{y.id}")
    message = session.scalar(select(InboxMessage).where(
        InboxMessage.member_id == z.id, InboxMessage.kind == "fee_rebate"))
    assert message.params == {"points": 16, "day": yesterday.isoformat()}
    at_risk = session.scalar(select(InboxMessage).where(InboxMessage.kind == "tier_at_risk"))
    assert at_risk.member_id == w.id and at_risk.params["tier"] == "A"
    assert at_risk.params["keep_needed"] == 2_000 * MILLION - MILLION
    assert ledger.find_mismatches(session) == []
    before = tally(session)

    # the scheduler may enqueue both again: nothing changes
    again = run(app, run_worker, evaluate_tiers)
    assert (again["upgraded"], again["at_risk"], again["downgraded"], again["metric_changed"]) == (0, 0, 0, 0)
    assert run(app, run_worker, award_fee_rebates, yesterday.isoformat()) == {
        "day": yesterday.isoformat(), "members": 0, "points": 0}
    assert tally(session) == before
    assert {m.id: ledger.balance_of(session, m.id, "points") for m in (x, y, z, w)} == expected
    assert ledger.find_mismatches(session) == []
