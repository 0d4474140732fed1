"""Fifty conversions at once on one member, each thread with its own session
and connection as web workers have: points never overdraw, the daily cap is
never exceeded, one token converts once, and the ledger stays consistent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.threads import THREADS, run_together
from webapp.extensions import db
from webapp.models import LedgerEntry, PointLot
from webapp.services import ledger
from webapp.services.ledger import wallet
from webapp.services.ledger.wallet import WalletSettings
from webapp.services.members import audit

pytestmark = pytest.mark.real_commits  # threads with their own sessions: real commits

TZ = "Asia/Tehran"


def set_rate(session, now, **changes):
    settings = WalletSettings(enabled=True, points_per_step=100, credit_per_step=10_000,
                              min_points=100, **changes)
    wallet.save_wallet_settings(session, settings, actor=audit.CLI, now=now)
    session.commit()


def doctor_is_clean(app) -> bool:
    result = app.test_cli_runner().invoke(args=["doctor"])
    return result.exit_code == 0 and "ledger ok" in result.output


def outcomes_of(app, now, member_id, points, key):
    return run_together(app, THREADS, lambda i: wallet.convert_points(
        db.session, member_id=member_id, points=points, key=key(i), now=now, tz=TZ))


def test_concurrent_conversions_never_overdraw_points(app, session, make_member, now):
    set_rate(session, now)  # no daily cap: only the balance limits
    member = make_member(points=1_050, now=now, expires_at=now + timedelta(days=30))
    session.remove()

    outcomes = outcomes_of(app, now, member.id, 100, lambda i: f"tok-{i}")

    done = [o for o in outcomes if isinstance(o, wallet.Conversion)]
    refused = [o for o in outcomes if isinstance(o, wallet.ConversionRefused)]
    assert len(done) == 10 and len(refused) == THREADS - 10, outcomes
    assert {o.reason for o in refused} == {wallet.OVER_BALANCE}
    assert sorted(o.points_balance for o in done) == list(range(50, 1_050, 100))  # one step each
    assert ledger.balance_of(session, member.id, "points") == 50
    assert ledger.balance_of(session, member.id, "credit") == 100_000
    assert session.scalar(select(func.sum(PointLot.remaining))) == 50
    assert ledger.find_mismatches(session) == []
    assert doctor_is_clean(app)


def test_concurrent_conversions_never_exceed_the_daily_cap(app, session, make_member, now):
    set_rate(session, now, daily_cap_points=2_000)
    member = make_member(points=50_000, now=now)
    session.remove()

    outcomes = outcomes_of(app, now, member.id, 300, lambda i: f"tok-{i}")

    done = [o for o in outcomes if isinstance(o, wallet.Conversion)]
    refused = [o for o in outcomes if isinstance(o, wallet.ConversionRefused)]
    assert len(done) == 6 and len(refused) == THREADS - 6, outcomes  # 6 × 300 = 1,800 ≤ 2,000
    assert {o.reason for o in refused} == {wallet.OVER_DAILY_CAP}
    assert wallet.converted_on_day(session, member.id, now, TZ) == 1_800
    assert ledger.balance_of(session, member.id, "points") == 50_000 - 1_800
    assert ledger.balance_of(session, member.id, "credit") == 180_000
    assert ledger.find_mismatches(session) == []
    assert doctor_is_clean(app)


def test_one_token_sent_fifty_times_at_once_converts_once(app, session, make_member, now):
    set_rate(session, now)
    member = make_member(points=1_000, now=now)
    session.remove()

    outcomes = outcomes_of(app, now, member.id, 200, lambda i: "double-click")

    assert all(isinstance(o, wallet.Conversion) for o in outcomes), outcomes
    assert sum(not o.replayed for o in outcomes) == 1
    assert {(o.points, o.credit) for o in outcomes} == {(200, 20_000)}
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == "convert")) == 2
    assert ledger.balance_of(session, member.id, "points") == 800
    assert ledger.find_mismatches(session) == []
    assert doctor_is_clean(app)
