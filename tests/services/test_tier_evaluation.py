"""The tier engine on the real database: immediate upgrades on qualifying events,
the nightly set-based evaluation (grace, downgrades, idempotency), calendar
windows and staff overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AuditLog, InboxMessage, LedgerEntry, Member, TierHistory
from webapp.services import ledger, tiers
from webapp.services.ledger import adjustments
from webapp.services.ledger.purchases import record_purchase, refund_purchase
from webapp.services.members import audit
from webapp.services.tiers.rules import Level, Program

CODES = ("bronze", "silver", "gold", "platinum")


def ladder(*thresholds, multipliers=None):
    multipliers = multipliers or [10_000] * len(thresholds)
    return tuple(Level(rank, CODES[rank], f"سطح {rank}", CODES[rank].title(), threshold,
                       multipliers[rank]) for rank, threshold in enumerate(thresholds))


def install(session, now, *, metric="points_earned", window_kind="rolling", window_days=90,
            thresholds=(0, 100, 500), multipliers=None, grace_days=7, allow_overrides=True,
            calendar_period=None, calendar_system="jalali") -> Program:
    program = Program(metric=metric, window_kind=window_kind, window_days=window_days,
                      levels=ladder(*thresholds, multipliers=multipliers), grace_days=grace_days,
                      allow_overrides=allow_overrides, calendar_period=calendar_period,
                      calendar_system=calendar_system)
    tiers.save_program(session, program, actor=audit.CLI, now=now)
    session.commit()
    return tiers.load_program(session)


def earn(session, member_id, points, when, key=None):
    ledger.award_points(session, member_id, points, key=key or f"earn:{member_id}:{when}:{points}",
                        now=when)


def code(session, member_id) -> str | None:
    session.expire_all()
    level = tiers.member_level(session, session.get(Member, member_id))
    return level.code if level else None


def history(session, member_id):
    return [(h.reason, h.metric_value) for h in reversed(tiers.member_history(session, member_id))]


def inbox_of(session, member_id):
    """The codes the inbox reads (the level names beside them are for the message templates)."""
    return [(m.kind, {k: v for k, v in m.params.items() if "_name_" not in k}) for m in session.scalars(
        select(InboxMessage).where(InboxMessage.member_id == member_id).order_by(InboxMessage.id))]


def counts(session):
    return (session.scalar(select(func.count()).select_from(TierHistory)),
            session.scalar(select(func.count()).select_from(InboxMessage)))


# -- immediate upgrades ------------------------------------------------------------------


def test_a_purchase_upgrades_at_once_and_the_next_one_earns_with_the_new_multiplier(session, make_member, now):
    install(session, now, thresholds=(0, 100, 500), multipliers=[10_000, 15_000, 20_000])
    member = make_member()
    tiers.evaluate_all(session, now=now)  # first evaluation: bronze, silently
    session.commit()
    assert code(session, member.id) == "bronze" and counts(session) == (0, 0)

    first, _ = record_purchase(session, member_id=member.id, amount=1_000_000, currency="IRR",
                               occurred_at=now, now=now)
    session.commit()
    assert first.points_earned == 100  # earned at bronze ×1
    assert code(session, member.id) == "silver"
    assert history(session, member.id) == [("upgrade", 100)]
    assert inbox_of(session, member.id) == [("tier_upgrade", {"from": "bronze", "to": "silver"})]

    second, balance = record_purchase(session, member_id=member.id, amount=1_000_000, currency="IRR",
                                      occurred_at=now, now=now + timedelta(minutes=1))
    session.commit()
    assert second.points_earned == 150 and balance == 250
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.source_id == str(second.id)))
    assert entry.description == "× Silver 1.5"
    assert code(session, member.id) == "silver"  # 250 < 500
    assert ledger.find_mismatches(session) == []


def test_a_member_never_evaluated_jumps_straight_to_the_level_earned(session, make_member, now):
    install(session, now)
    member = make_member()
    record_purchase(session, member_id=member.id, amount=6_000_000, currency="IRR", occurred_at=now, now=now)
    session.commit()
    assert code(session, member.id) == "gold"
    assert inbox_of(session, member.id) == [("tier_upgrade", {"from": None, "to": "gold"})]


def test_spending_or_refunding_never_downgrades_before_the_night(session, make_member, now):
    install(session, now)
    member = make_member()
    purchase, _ = record_purchase(session, member_id=member.id, amount=2_000_000, currency="IRR",
                                  occurred_at=now, now=now)
    session.commit()
    assert code(session, member.id) == "silver"
    refund_purchase(session, purchase_id=purchase.id, now=now + timedelta(hours=1))
    session.commit()
    assert code(session, member.id) == "silver"
    assert session.get(Member, member.id).downgrade_due_at is None


def test_positive_adjustments_count_as_points_earned(session, make_member, make_staff, now):
    install(session, now)
    member = make_member()
    adjustments.adjust_points(session, member_id=member.id, amount=120, reason="missed purchase",
                              actor=audit.CLI, now=now, key="form-1")
    session.commit()
    assert code(session, member.id) == "silver"
    assert history(session, member.id) == [("upgrade", 120)]


def test_only_earning_kinds_count_toward_points_earned(session, make_member, now):
    program = install(session, now)
    member = make_member()
    earn(session, member.id, 300, now - timedelta(days=1))
    ledger.spend_points(session, member.id, 250, key="spent", now=now)  # spending keeps the metric
    ledger.post(session, member_id=member.id, currency="points", amount=-20, kind="reversal",
                key="rev", now=now)
    ledger.post(session, member_id=member.id, currency="points", amount=25, kind="convert",
                key="odd", now=now)  # not an earning kind
    ledger.grant_credit(session, member.id, 5_000, key="credit", now=now)
    session.commit()
    assert tiers.member_metrics(session, program, member.id, now) == (280, 280)


def test_spend_counts_what_was_not_refunded_and_purchases_skip_full_refunds(session, make_member, now):
    member = make_member()
    a, _ = record_purchase(session, member_id=member.id, amount=500_000, currency="IRR", occurred_at=now, now=now)
    b, _ = record_purchase(session, member_id=member.id, amount=300_000, currency="IRR", occurred_at=now, now=now)
    record_purchase(session, member_id=member.id, amount=200_000, currency="IRR",
                    occurred_at=now - timedelta(days=91), now=now)  # outside the window
    refund_purchase(session, purchase_id=a.id, amount=100_000, now=now)
    refund_purchase(session, purchase_id=b.id, now=now)
    session.commit()
    spend = Program("spend", "rolling", ladder(0, 1), window_days=90)
    count = Program("purchases", "rolling", ladder(0, 1), window_days=90)
    assert tiers.member_metrics(session, spend, member.id, now) == (400_000, 400_000)
    assert tiers.member_metrics(session, count, member.id, now) == (1, 1)


# -- the nightly evaluation ------------------------------------------------------------


def test_the_night_upgrades_warns_then_downgrades_exactly_when_the_grace_ends(session, make_member, now):
    install(session, now, window_days=90, grace_days=7)
    member = make_member()
    earn(session, member.id, 600, now - timedelta(days=80))
    earn(session, member.id, 150, now - timedelta(days=10))
    session.commit()

    result = tiers.evaluate_all(session, now=now)
    session.commit()
    assert (result.upgraded, result.at_risk, result.downgraded) == (1, 0, 0)
    assert code(session, member.id) == "gold"

    # eleven days on, the 600 have left the window: 150 is silver, gold is at risk
    night = now + timedelta(days=11)
    result = tiers.evaluate_all(session, now=night)
    session.commit()
    stored = session.get(Member, member.id)
    assert (result.at_risk, result.downgraded) == (1, 0)
    assert stored.tier_metric == 150 and stored.downgrade_due_at == night + timedelta(days=7)
    assert code(session, member.id) == "gold"
    assert inbox_of(session, member.id)[-1] == ("tier_at_risk", {
        "tier": "gold", "keep_needed": 350, "keep_by": (night + timedelta(days=7)).isoformat()})

    # nights in the grace change nothing, up to the instant before it ends
    before = counts(session)
    for later in (night + timedelta(days=1), night + timedelta(days=7, microseconds=-1)):
        result = tiers.evaluate_all(session, now=later)
        session.commit()
        assert (result.at_risk, result.downgraded) == (0, 0)
    assert counts(session) == before and code(session, member.id) == "gold"

    result = tiers.evaluate_all(session, now=night + timedelta(days=7))
    session.commit()
    assert result.downgraded == 1
    assert code(session, member.id) == "silver"
    assert session.get(Member, member.id).downgrade_due_at is None
    assert history(session, member.id) == [("upgrade", 750), ("at_risk", 150), ("downgrade", 150)]
    assert inbox_of(session, member.id)[-1] == ("tier_downgrade", {"from": "gold", "to": "silver"})


def test_running_the_night_twice_changes_nothing(session, make_member, now):
    install(session, now, grace_days=0)
    rising, falling, idle = make_member(), make_member(), make_member()
    earn(session, rising.id, 700, now - timedelta(days=1))
    earn(session, falling.id, 200, now - timedelta(days=200))
    session.commit()
    session.execute(Member.__table__.update().where(Member.id == falling.id).values(
        tier_id=tiers.load_program(session).levels[1].id))
    session.commit()

    first = tiers.evaluate_all(session, now=now)
    session.commit()
    assert (first.upgraded, first.downgraded) == (1, 1)
    snapshot = counts(session), [tuple(r) for r in session.execute(
        select(Member.id, Member.tier_id, Member.tier_metric, Member.downgrade_due_at).order_by(Member.id))]

    second = tiers.evaluate_all(session, now=now + timedelta(minutes=5))
    session.commit()
    assert (second.upgraded, second.at_risk, second.downgraded, second.metric_changed) == (0, 0, 0, 0)
    assert (counts(session), [tuple(r) for r in session.execute(
        select(Member.id, Member.tier_id, Member.tier_metric, Member.downgrade_due_at)
        .order_by(Member.id))]) == snapshot
    assert code(session, idle.id) == "bronze"


def test_with_no_grace_the_downgrade_is_the_same_night_and_unannounced(session, make_member, now):
    install(session, now, grace_days=0)
    member = make_member()
    earn(session, member.id, 150, now - timedelta(days=100))
    session.commit()
    tiers.evaluate_all(session, now=now - timedelta(days=50))
    session.commit()
    assert code(session, member.id) == "silver"
    tiers.evaluate_all(session, now=now)
    session.commit()
    assert code(session, member.id) == "bronze"
    assert [r for r, _ in history(session, member.id)] == ["upgrade", "downgrade"]


def test_qualifying_again_in_the_grace_keeps_the_level(session, make_member, now):
    install(session, now, grace_days=7)
    member = make_member()
    earn(session, member.id, 150, now - timedelta(days=85))
    session.commit()
    tiers.evaluate_all(session, now=now)
    night = now + timedelta(days=6)
    tiers.evaluate_all(session, now=night)
    session.commit()
    assert session.get(Member, member.id).downgrade_due_at is not None

    record_purchase(session, member_id=member.id, amount=1_000_000, currency="IRR",
                    occurred_at=night + timedelta(hours=2), now=night + timedelta(hours=2))
    session.commit()
    assert session.get(Member, member.id).downgrade_due_at is None  # cleared at once
    tiers.evaluate_all(session, now=night + timedelta(days=8))
    session.commit()
    assert code(session, member.id) == "silver"


def test_the_night_clears_the_grace_of_members_who_qualify_again(session, make_member, now):
    install(session, now, grace_days=7)
    member = make_member()
    earn(session, member.id, 150, now - timedelta(days=85))
    session.commit()
    tiers.evaluate_all(session, now=now)
    tiers.evaluate_all(session, now=now + timedelta(days=6))
    session.commit()
    earn(session, member.id, 120, now + timedelta(days=6, hours=1))  # a bonus outside any event hook
    session.commit()
    result = tiers.evaluate_all(session, now=now + timedelta(days=7))
    session.commit()
    assert result.requalified == 1
    assert session.get(Member, member.id).downgrade_due_at is None


def test_closed_members_are_left_alone(session, make_member, now):
    install(session, now)
    member = make_member()
    earn(session, member.id, 600, now)
    session.execute(Member.__table__.update().values(status="closed"))
    session.commit()
    result = tiers.evaluate_all(session, now=now)
    session.commit()
    assert result.members == 0 and session.get(Member, member.id).tier_id is None


def test_a_jalali_month_program_keeps_a_level_through_the_next_month(session, make_member, now):
    # now is 4 Azar 1405; 10 Aban is 2026-11-01
    install(session, now, metric="spend", window_kind="calendar", calendar_period="month",
            thresholds=(0, 1_000_000, 5_000_000), grace_days=3)
    member = make_member()
    aban = datetime(2026, 11, 1, 10, tzinfo=UTC)
    record_purchase(session, member_id=member.id, amount=1_500_000, currency="IRR", occurred_at=aban, now=aban)
    session.commit()
    assert code(session, member.id) == "silver"

    tiers.evaluate_all(session, now=now)  # Azar: nothing yet this month, Aban still holds silver
    session.commit()
    stored = session.get(Member, member.id)
    assert code(session, member.id) == "silver" and stored.downgrade_due_at is None
    progress = tiers.member_progress(session, stored, now)
    assert progress.metric == 0 and progress.at_risk and progress.keep_needed == 1_000_000
    assert progress.keep_by == datetime(2026, 12, 21, 20, 30, tzinfo=UTC)  # 1 Dey, Tehran midnight

    dey = datetime(2026, 12, 22, 0, 10, tzinfo=UTC)  # Azar had nothing: at risk now
    result = tiers.evaluate_all(session, now=dey)
    session.commit()
    assert result.at_risk == 1
    assert inbox_of(session, member.id)[-1][1]["keep_needed"] == 1_000_000
    tiers.evaluate_all(session, now=dey + timedelta(days=3))
    session.commit()
    assert code(session, member.id) == "bronze"


# -- overrides ---------------------------------------------------------------------------


def test_an_override_wins_until_it_ends_then_the_metric_decides(session, make_member, make_staff, now):
    install(session, now)
    member = make_member()
    earn(session, member.id, 150, now - timedelta(days=1))
    session.commit()
    tiers.evaluate_all(session, now=now)
    staff = make_staff("operator")
    actor = audit.Actor(label=f"staff:{staff.id}")
    until = now + timedelta(days=10)
    tiers.set_override(session, member_id=member.id, tier_code="gold", until=until,
                       reason="status match", actor=actor, now=now)
    session.commit()
    assert code(session, member.id) == "gold"
    assert inbox_of(session, member.id)[-1] == ("tier_upgrade", {"from": "silver", "to": "gold"})
    logged = session.scalar(select(AuditLog).where(AuditLog.action == "member.tier_override"))
    assert logged.reason == "status match" and logged.after["until"] == until.isoformat()

    # the metric (150) would put gold at risk, but the override holds
    tiers.evaluate_all(session, now=now + timedelta(days=9))
    record_purchase(session, member_id=member.id, amount=5_000_000, currency="IRR",
                    occurred_at=now + timedelta(days=9), now=now + timedelta(days=9))
    session.commit()
    assert code(session, member.id) == "gold" and session.get(Member, member.id).downgrade_due_at is None

    result = tiers.evaluate_all(session, now=until)
    session.commit()
    assert result.overrides_ended == 1
    stored = session.get(Member, member.id)
    assert stored.tier_override_id is None and stored.tier_override_until is None
    assert code(session, member.id) == "gold"  # 650 earned by now: gold on its own
    assert history(session, member.id)[-1] == ("override_end", 650)


def test_an_ended_override_drops_to_the_earned_level_at_once(session, make_member, now):
    install(session, now)
    member = make_member()
    tiers.set_override(session, member_id=member.id, tier_code="gold", until=now + timedelta(days=1),
                       reason="trial", actor=audit.CLI, now=now)
    session.commit()
    tiers.evaluate_all(session, now=now + timedelta(days=2))
    session.commit()
    assert code(session, member.id) == "bronze"
    assert inbox_of(session, member.id)[-1] == ("tier_downgrade", {"from": "gold", "to": "bronze"})


def test_staff_can_end_an_override_early(session, make_member, now):
    install(session, now)
    member = make_member()
    earn(session, member.id, 120, now)
    tiers.set_override(session, member_id=member.id, tier_code="gold", until=now + timedelta(days=30),
                       reason="trial", actor=audit.CLI, now=now)
    tiers.set_override(session, member_id=member.id, tier_code=None, until=None, reason="ended early",
                       actor=audit.CLI, now=now + timedelta(hours=1))
    session.commit()
    assert code(session, member.id) == "silver"
    assert [r for r, _ in history(session, member.id)] == ["override", "override_end"]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"tier_code": "diamond"}, tiers.UnknownTier),
    ({"until": "past"}, tiers.InvalidOverride),
    ({"until": None}, tiers.InvalidOverride),
    ({"reason": "  "}, tiers.OverrideReasonRequired),
])
def test_bad_overrides_are_refused(session, make_member, now, kwargs, error):
    install(session, now)
    member = make_member()
    args = {"tier_code": "gold", "until": now + timedelta(days=3), "reason": "because"} | kwargs
    if args["until"] == "past":
        args["until"] = now
    with pytest.raises(error):
        tiers.set_override(session, member_id=member.id, actor=audit.CLI, now=now, **args)


def test_overrides_are_refused_when_the_program_forbids_them(session, make_member, now):
    install(session, now, allow_overrides=False)
    member = make_member()
    with pytest.raises(tiers.OverridesNotAllowed):
        tiers.set_override(session, member_id=member.id, tier_code="gold",
                           until=now + timedelta(days=3), reason="because", actor=audit.CLI, now=now)


def test_without_a_program_nothing_happens(session, make_member, now):
    member = make_member()
    purchase, _ = record_purchase(session, member_id=member.id, amount=9_000_000, currency="IRR",
                                  occurred_at=now, now=now)
    assert purchase.points_earned == 900
    assert tiers.member_level(session, session.get(Member, member.id)) is None
    assert tiers.member_progress(session, session.get(Member, member.id), now) is None
    assert tiers.evaluate_all(session, now=now).members == 0
    with pytest.raises(tiers.NoTierProgram):
        tiers.set_override(session, member_id=member.id, tier_code="gold",
                           until=now + timedelta(days=1), reason="because", actor=audit.CLI, now=now)


# -- progress -----------------------------------------------------------------------------


def test_progress_tells_what_leaves_the_rolling_window_and_when(session, make_member, now):
    install(session, now, window_days=90)
    member = make_member()
    earn(session, member.id, 80, now - timedelta(days=85), key="old")
    earn(session, member.id, 40, now - timedelta(days=5), key="new")
    session.commit()
    tiers.evaluate_all(session, now=now)
    session.commit()
    progress = tiers.member_progress(session, session.get(Member, member.id), now)
    assert (progress.current.code, progress.next.code, progress.metric) == ("silver", "gold", 120)
    assert progress.needed == 380
    assert progress.leaving == ((now + timedelta(days=5), 80),)
    assert not progress.at_risk


def test_a_purchase_stamped_by_a_till_running_fast_still_upgrades_at_once(session, make_member, now):
    """Tills' clocks drift: the API accepts occurred_at up to a day ahead, and the
    upgrade must not wait for the night."""
    from datetime import timedelta

    from webapp.services import tiers
    from webapp.services.ledger.purchases import record_purchase
    from webapp.services.members import audit
    from webapp.services.tiers.rules import Level, Program

    program = Program("spend", "rolling", (Level(0, "c", "ج", "C", 0), Level(1, "b", "ب", "B", 500)),
                      window_days=90)
    tiers.save_program(session, program, actor=audit.CLI, now=now)
    member = make_member()
    record_purchase(session, member_id=member.id, amount=1000, currency="IRR",
                    occurred_at=now + timedelta(minutes=5), now=now)
    session.commit()
    assert tiers.member_level(session, session.get(type(member), member.id)).code == "b"
