"""Converting points to store credit against the real database: settings,
one atomic transaction, FIFO lots, idempotent replays, the daily cap in the
club's time zone, and the inbox message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AuditLog, InboxMessage, LedgerEntry, Member, PointLot
from webapp.services import ledger
from webapp.services.errors import MemberNotActive
from webapp.services.ledger import wallet
from webapp.services.ledger.wallet import WalletSettings
from webapp.services.members import audit, inbox

TZ = "Asia/Tehran"  # +03:30 all year
RATE = WalletSettings(enabled=True, points_per_step=100, credit_per_step=10_000, min_points=100,
                      daily_cap_points=1_000)


@pytest.fixture
def rate(session, now):
    def set_rate(settings: WalletSettings = RATE) -> WalletSettings:
        saved = wallet.save_wallet_settings(session, settings, actor=audit.CLI, now=now)
        session.commit()
        return saved

    set_rate()
    return set_rate


def convert(session, member_id, points, key, now, **kwargs):
    result = wallet.convert_points(session, member_id=member_id, points=points, key=key, now=now,
                                   tz=TZ, **kwargs)
    session.commit()
    return result


def balances(session, member_id):
    session.expire_all()
    member = session.get(Member, member_id)
    return member.points_balance, member.credit_balance


# -- settings ------------------------------------------------------------------------


def test_settings_default_to_off_and_round_trip_through_the_club_settings(session, now):
    assert wallet.load_wallet_settings(session) == WalletSettings(enabled=False)
    wallet.save_wallet_settings(session, RATE, actor=audit.CLI, now=now)
    session.commit()
    session.expire_all()
    assert wallet.load_wallet_settings(session) == RATE


def test_saving_settings_is_audited_with_before_and_after_and_only_on_change(session, now):
    wallet.save_wallet_settings(session, RATE, actor=audit.CLI, now=now)
    wallet.save_wallet_settings(session, RATE, actor=audit.CLI, now=now)  # unchanged: no second row
    session.commit()
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "settings.wallet")).all()
    assert len(rows) == 1
    assert rows[0].before["enabled"] is False and rows[0].after == {
        "enabled": True, "points_per_step": 100, "credit_per_step": 10_000, "min_points": 100,
        "daily_cap_points": 1_000,
    }
    assert rows[0].actor == "cli"


def test_invalid_settings_are_refused_with_every_problem_and_nothing_is_saved(session, now):
    bad = WalletSettings(enabled=True, points_per_step=100, credit_per_step=0, min_points=150)
    with pytest.raises(wallet.WalletSettingsInvalid) as caught:
        wallet.save_wallet_settings(session, bad, actor=audit.CLI, now=now)
    assert set(caught.value.problems) == {"credit_per_step", "min_points"}
    assert caught.value.status == 422 and caught.value.code == "wallet_settings_invalid"
    session.rollback()
    assert wallet.load_wallet_settings(session) == WalletSettings()
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


# -- converting -----------------------------------------------------------------------


def test_a_conversion_debits_points_and_credits_credit_in_one_go(session, make_member, rate, now):
    member = make_member(points=750, credit=5, now=now, expires_at=now + timedelta(days=60))
    result = convert(session, member.id, 300, "tok-1", now)
    assert (result.points, result.credit, result.replayed) == (300, 30_000, False)
    assert (result.points_balance, result.credit_balance) == (450, 30_005)
    assert balances(session, member.id) == (450, 30_005)
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "convert")
                              .order_by(LedgerEntry.id)).all()
    assert [(e.currency, e.amount, e.idempotency_key) for e in entries] == [
        ("points", -300, f"convert:{member.id}:tok-1:points"),
        ("credit", 30_000, f"convert:{member.id}:tok-1:credit"),
    ]
    assert ledger.find_mismatches(session) == []


def test_a_conversion_consumes_the_soonest_expiring_lots_first(session, make_member, rate, now):
    member = make_member(now=now)
    for n, days in enumerate((90, 10, 40)):
        ledger.award_points(session, member.id, 100, key=f"lot:{n}", now=now,
                            expires_at=now + timedelta(days=days))
    session.commit()
    convert(session, member.id, 200, "fifo", now)
    left = dict(session.execute(select(PointLot.expires_at, PointLot.remaining)).all())
    assert left == {now + timedelta(days=10): 0, now + timedelta(days=40): 0,
                    now + timedelta(days=90): 100}
    assert ledger.find_mismatches(session) == []


def test_replaying_a_key_returns_the_first_conversion_and_changes_nothing(session, make_member, rate, now):
    member = make_member(points=1_000, now=now)
    first = convert(session, member.id, 200, "same", now)
    again = convert(session, member.id, 200, "same", now + timedelta(minutes=1))
    other_amount = convert(session, member.id, 500, "same", now + timedelta(minutes=2))
    assert not first.replayed and again.replayed and other_amount.replayed
    assert (again.points, again.credit, again.created_at) == (200, 20_000, now)
    assert (other_amount.points, other_amount.credit) == (200, 20_000)
    assert balances(session, member.id) == (800, 20_000)
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == "convert")) == 2


def test_the_same_token_from_two_members_converts_for_each(session, make_member, rate, now):
    one, two = make_member(points=300, now=now), make_member(points=300, now=now)
    convert(session, one.id, 100, "shared-token", now)
    result = convert(session, two.id, 200, "shared-token", now)
    assert not result.replayed
    assert balances(session, one.id) == (200, 10_000)
    assert balances(session, two.id) == (100, 20_000)


@pytest.mark.parametrize(("points", "balance", "reason"), [
    (50, 1_000, wallet.BELOW_MINIMUM),
    (150, 1_000, wallet.NOT_WHOLE_STEP),
    (600, 500, wallet.OVER_BALANCE),
    (1_100, 5_000, wallet.OVER_DAILY_CAP),
])
def test_a_refused_conversion_names_its_reason_and_saves_nothing(session, make_member, rate, now,
                                                                  points, balance, reason):
    member = make_member(points=balance, now=now)
    with pytest.raises(wallet.ConversionRefused) as caught:
        wallet.convert_points(session, member_id=member.id, points=points, key="k", now=now, tz=TZ)
    session.rollback()
    assert caught.value.reason == reason and caught.value.code == "conversion_refused"
    assert caught.value.preview.requested == points
    assert balances(session, member.id) == (balance, 0)
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == "convert")) == 0


def test_nothing_converts_while_the_wallet_is_off(session, make_member, rate, now):
    rate(WalletSettings(enabled=False))
    member = make_member(points=1_000, now=now)
    with pytest.raises(wallet.ConversionRefused) as caught:
        wallet.convert_points(session, member_id=member.id, points=100, key="k", now=now, tz=TZ)
    assert caught.value.reason == wallet.DISABLED


def test_a_suspended_member_cannot_convert(session, make_member, rate, now):
    member = make_member(points=1_000, now=now)
    session.get(Member, member.id).status = "suspended"
    session.commit()
    with pytest.raises(MemberNotActive):
        wallet.convert_points(session, member_id=member.id, points=100, key="k", now=now, tz=TZ)


@pytest.mark.parametrize("key", ["", "   ", "x" * 151])
def test_a_missing_or_absurd_key_is_refused(session, make_member, rate, now, key):
    member = make_member(points=1_000, now=now)
    with pytest.raises(wallet.InvalidConversionKey):
        wallet.convert_points(session, member_id=member.id, points=100, key=key, now=now, tz=TZ)


def test_the_daily_cap_counts_conversions_of_the_local_day_only(session, make_member, rate, now):
    # now is 13:00 in Tehran on 25 November; the local day began at 20:30 UTC the day before
    member = make_member(points=5_000, now=now - timedelta(days=2))
    yesterday_late = datetime(2026, 11, 24, 20, 29, tzinfo=UTC)  # 23:59 on the 24th, Tehran
    today_early = datetime(2026, 11, 24, 20, 31, tzinfo=UTC)  # 00:01 on the 25th, Tehran
    convert(session, member.id, 1_000, "late", yesterday_late)
    convert(session, member.id, 600, "early", today_early)
    assert wallet.converted_on_day(session, member.id, now, TZ) == 600
    with pytest.raises(wallet.ConversionRefused) as caught:
        wallet.convert_points(session, member_id=member.id, points=500, key="over", now=now, tz=TZ)
    assert caught.value.reason == wallet.OVER_DAILY_CAP and caught.value.preview.cap_left == 400
    session.rollback()
    assert convert(session, member.id, 400, "fits", now).points == 400
    # in UTC both early conversions fall on the 24th: the time zone is what decides
    assert wallet.converted_on_day(session, member.id, yesterday_late, "UTC") == 1_600
    assert wallet.converted_on_day(session, member.id, now, "UTC") == 400
    tomorrow = now + timedelta(days=1)
    assert wallet.wallet_state(session, member.id, now=tomorrow, tz=TZ).cap_left == 1_000


def test_wallet_state_shows_balances_limits_and_recent_conversions(session, make_member, rate, now):
    member = make_member(points=2_000, credit=7, now=now)
    convert(session, member.id, 100, "a", now - timedelta(minutes=2))
    convert(session, member.id, 300, "b", now - timedelta(minutes=1))
    state = wallet.wallet_state(session, member.id, now=now, tz=TZ, points=700)
    assert (state.points_balance, state.credit_balance) == (1_600, 40_007)
    assert (state.converted_today, state.cap_left, state.available) == (400, 600, 600)
    assert [(c.points, c.credit) for c in state.recent] == [(300, 30_000), (100, 10_000)]
    assert state.preview.refusal == wallet.OVER_DAILY_CAP and state.preview.suggested == 600
    assert wallet.wallet_state(session, member.id, now=now, tz=TZ).preview is None


def test_a_conversion_leaves_a_message_in_the_members_inbox(session, make_member, rate, now):
    member = make_member(points=1_000, now=now)
    convert(session, member.id, 200, "with-message", now)
    convert(session, member.id, 200, "with-message", now)  # a replay: no second message
    messages = session.scalars(select(InboxMessage).where(InboxMessage.member_id == member.id)).all()
    assert [(m.kind, m.params) for m in messages] == [("credit_converted", {"points": 200, "credit": 20_000})]
    assert inbox.unread_count(session, member.id) == 1
