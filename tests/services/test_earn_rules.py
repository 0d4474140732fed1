"""Earn rules applied to purchases and other events: every matching rule on top
of the base rate, one keyed ledger entry each, caps and budgets never exceeded,
versions that keep history and share one budget, and audited staff writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from webapp.models import (
    AuditLog,
    CheckIn,
    EarnRule,
    LedgerEntry,
    Member,
    PointLot,
    Purchase,
    PurchaseItem,
    PurchaseRefund,
    RuleAward,
)
from webapp.services import ledger, tiers
from webapp.services.ledger import purchases
from webapp.services.ledger.purchases import ItemLine
from webapp.services.members import accounts, audit
from webapp.services.offers import earn_rules
from webapp.services.offers.rule_engine import Conditions, Rule
from webapp.services.tiers.rules import Level, Program

TZ = "Asia/Tehran"
ACTOR = audit.CLI


def design(session, now, *, activate=True, cond=None, **kw) -> EarnRule:
    spec = {"id": None, "family_id": None, "trigger": "purchase", "name_fa": "دوبل آخر هفته",
            "name_en": "Weekend double points", "effect": "fixed", "points": 100, **kw}
    row = earn_rules.create_rule(session, Rule(**spec, conditions=Conditions(**(cond or {}))),
                                 actor=ACTOR, now=now)
    if activate:
        earn_rules.activate_rule(session, row.id, actor=ACTOR, now=now)
    session.flush()
    return row


def buy(session, member_id, now, amount=100_000, items=(), **kw):
    purchase, balance = purchases.record_purchase(
        session, member_id=member_id, amount=amount, currency="IRR", occurred_at=now, now=now,
        items=list(items), **kw)
    return purchase, balance


def awards(session, member_id=None):
    query = select(RuleAward).order_by(RuleAward.id)
    if member_id is not None:
        query = query.where(RuleAward.member_id == member_id)
    return list(session.scalars(query))


def test_every_matching_rule_adds_its_own_keyed_entry_on_top_of_the_base_rate(session, make_member, now):
    member = make_member(now=now)
    a = design(session, now, points=100)
    b = design(session, now, name_en="Coffee 10%", name_fa="قهوه", effect="percent", percent_bp=1_000,
               cond={"categories": frozenset({"coffee"})})
    design(session, now, name_en="Web only", name_fa="وب", cond={"channels": frozenset({"web"})})
    purchase, balance = buy(session, member.id, now, amount=100_000, channel="pos",
                            items=[ItemLine("C1", "coffee", 2, 20_000), ItemLine("T1", "tea", 1, 60_000)])
    # base 1 per 10,000 = 10; rule a 100; rule b 10 % of the coffee items (40,000) = 4,000
    assert purchase.points_earned == 10 + 100 + 4_000 == balance
    keys = set(session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.member_id == member.id)))
    assert {f"purchase:{purchase.id}:earn", f"purchase:{purchase.id}:rule:{a.family_id}",
            f"purchase:{purchase.id}:rule:{b.family_id}"} <= keys
    entry = session.scalar(select(LedgerEntry).where(
        LedgerEntry.idempotency_key == f"purchase:{purchase.id}:rule:{a.family_id}"))
    assert (entry.source_type, entry.source_id, entry.description) == ("earn_rule", str(a.id), "Weekend double points")
    assert [(w.rule_id, w.points, w.entry_id is not None) for w in awards(session)] == [
        (a.id, 100, True), (b.id, 4_000, True)]
    assert ledger.find_mismatches(session) == []


def test_a_full_refund_takes_back_the_rule_points_too(session, make_member, now):
    member = make_member(now=now)
    design(session, now, points=100)
    purchase, _ = buy(session, member.id, now, amount=50_000)
    assert purchase.points_earned == 105
    purchases.refund_purchase(session, purchase_id=purchase.id, now=now)
    assert ledger.balance_of(session, member.id, "points") == 0


def test_tier_multiplier_is_applied_and_described_unless_the_rule_opts_out(session, make_member, now):
    program = Program(metric="points_earned", window_kind="rolling", levels=(
        Level(0, "base", "پایه", "Base", 0, 15_000),))
    tiers.save_program(session, program, actor=ACTOR, now=now)
    member = make_member(now=now)
    multiplied = design(session, now, points=80)
    flat = design(session, now, points=80, use_tier_multiplier=False, name_en="Flat", name_fa="ثابت")
    purchase, _ = buy(session, member.id, now, amount=10_000)
    got = {w.rule_id: w for w in awards(session)}
    assert got[multiplied.id].points == 120 and got[multiplied.id].tier_multiplier_bp == 15_000
    assert got[flat.id].points == 80 and got[flat.id].tier_id is None
    entry = session.get(LedgerEntry, got[multiplied.id].entry_id)
    assert entry.description == "Weekend double points × Base 1.5"
    assert purchase.points_earned == 1 + 120 + 80  # base 1 point × 1.5 rounds down to 1


def test_first_purchase_only_rules_pay_once(session, make_member, now):
    member = make_member(now=now)
    design(session, now, points=500, cond={"first_purchase_only": True})
    first, _ = buy(session, member.id, now)
    second, _ = buy(session, member.id, now + timedelta(hours=1))
    assert (first.points_earned, second.points_earned) == (510, 10)


def test_per_member_daily_cap_awards_what_is_left_then_nothing_until_the_next_local_day(session, make_member):
    start = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 09:30 in Tehran
    member = make_member(now=start)
    rule = design(session, start, points=300, cap_points=700, cap_period="day")
    got = [buy(session, member.id, start + timedelta(hours=h))[0].points_earned - 10 for h in (0, 1, 2, 3)]
    assert got == [300, 300, 100, 0]
    # 20:30 UTC is already tomorrow (00:00) in Tehran: a fresh day's cap
    tomorrow, _ = buy(session, member.id, datetime(2026, 11, 25, 20, 30, tzinfo=UTC))
    assert tomorrow.points_earned == 310
    assert session.get(EarnRule, rule.id).points_awarded == 1_000


def test_budget_is_never_exceeded_and_the_last_award_gets_what_is_left(session, make_member, now):
    rule = design(session, now, points=400, budget_points=1_000)
    people = [make_member(now=now) for _ in range(4)]
    got = [buy(session, m.id, now)[0].points_earned - 10 for m in people]
    assert got == [400, 400, 200, 0]
    assert session.get(EarnRule, rule.id).points_awarded == 1_000


def test_a_new_version_keeps_history_and_the_family_budget(session, make_member, now):
    member = make_member(now=now)
    v1 = design(session, now, points=400, budget_points=1_000)
    buy(session, member.id, now)
    spec = earn_rules.engine_rule(v1)
    from dataclasses import replace
    v2 = earn_rules.revise_rule(session, v1.id, replace(spec, points=500, name_en="Bigger"),
                                actor=ACTOR, now=now + timedelta(hours=1))
    assert (v1.status, v2.status, v2.version, v2.family_id) == ("ended", "active", 2, v1.family_id)
    assert v2.points_awarded == 400  # the family's total travels with the active version
    purchase, _ = buy(session, member.id, now + timedelta(hours=2))
    assert purchase.points_earned == 10 + 500
    last, _ = buy(session, member.id, now + timedelta(hours=3))
    assert last.points_earned == 10 + 100  # 1,000 − 900 left in the family budget
    # the first award still points at version 1, the later ones at version 2
    assert [w.rule_id for w in awards(session)] == [v1.id, v2.id, v2.id]
    with pytest.raises(earn_rules.RuleInvalid) as exc:
        earn_rules.revise_rule(session, v2.id, replace(spec, budget_points=900), actor=ACTOR, now=now)
    assert "budget_points" in exc.value.problems
    actions = list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["rule.create", "rule.activate", "rule.version"]
    version_audit = session.scalar(select(AuditLog).where(AuditLog.action == "rule.version"))
    assert version_audit.before["points"] == 400 and version_audit.after["points"] == 500


def test_drafts_are_edited_in_place_only_while_drafts_and_ended_rules_give_nothing(session, make_member, now):
    member = make_member(now=now)
    draft = design(session, now, activate=False)
    buy(session, member.id, now)
    assert awards(session) == []  # a draft applies to nothing
    spec = earn_rules.engine_rule(draft)
    from dataclasses import replace
    same = earn_rules.edit_draft(session, draft.id, replace(spec, points=7), actor=ACTOR, now=now)
    assert same.id == draft.id and same.points == 7
    earn_rules.activate_rule(session, draft.id, actor=ACTOR, now=now)
    with pytest.raises(earn_rules.RuleStateConflict):
        earn_rules.edit_draft(session, draft.id, spec, actor=ACTOR, now=now)
    earn_rules.end_rule(session, draft.id, actor=ACTOR, now=now)
    purchase, _ = buy(session, member.id, now)
    assert purchase.points_earned == 10
    assert [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))] == [
        "rule.create", "rule.edit", "rule.activate", "rule.end"]


def test_sign_up_and_profile_completed_earn_once(session, now):
    design(session, now, trigger="signup", points=50, name_en="Welcome")
    design(session, now, trigger="profile_completed", points=200, name_en="Profile")
    member = accounts.create_member(session, ids=accounts.normalise_identifiers("new@example.com", None),
                                   now=now, display_name="Sara")
    assert member.points_balance == 50
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.member_id == member.id))
    assert entry.idempotency_key == f"signup:{member.id}:rule:{awards(session)[0].family_id}"
    birthday = datetime(1990, 5, 1).date()
    accounts.save_profile(session, member, now=now, birthday=birthday)
    assert ledger.balance_of(session, member.id, "points") == 50  # no mobile: not complete
    accounts.save_profile(session, member, now=now, birthday=None)
    member.mobile = "+989121234567"  # support added it; the member's next save completes the profile
    accounts.save_profile(session, member, now=now, birthday=birthday)
    assert ledger.balance_of(session, member.id, "points") == 250
    accounts.save_profile(session, member, now=now, birthday=None)
    accounts.save_profile(session, member, now=now, birthday=birthday)
    assert ledger.balance_of(session, member.id, "points") == 250  # once ever


def test_award_for_event_is_idempotent_per_event_key(session, make_member, now):
    member = make_member(now=now)
    design(session, now, trigger="contest_played", points=30, name_en="Played")
    first = earn_rules.award_for_event(session, member_id=member.id, trigger="contest_played",
                                       event_key="contest:9:member:1", now=now)
    again = earn_rules.award_for_event(session, member_id=member.id, trigger="contest_played",
                                       event_key="contest:9:member:1", now=now)
    assert [a.points for a in first] == [30] and again == []
    assert ledger.balance_of(session, member.id, "points") == 30


def test_the_dry_run_reports_every_rule_and_writes_nothing(session, now):
    design(session, now, points=100, cond={"min_amount": 200_000})
    design(session, now, points=5, name_en="Any")
    design(session, now, points=5, name_en="Segment", cond={"segment_id": 1})
    before = session.scalar(select(func.count()).select_from(LedgerEntry))
    from webapp.services.offers.rule_engine import Event
    result = earn_rules.dry_run(session, Event("purchase", now, amount=150_000), tier_id=None,
                                first_purchase=False, tz=TZ)
    assert result.base == 15
    assert [(o.rule.name_en, o.matched, o.reason) for o in result.outcomes] == [
        ("Any", True, None), ("Weekend double points", False, "min_amount"), ("Segment", False, "segment")]
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == before


# -- hypothesis: caps and budgets over random event sequences -----------------------------


def _wipe(session):
    for model in (RuleAward, PurchaseRefund, PurchaseItem, Purchase, PointLot, LedgerEntry, CheckIn,
                  AuditLog, EarnRule, Member):
        session.execute(delete(model))
    session.flush()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cap=st.integers(1, 900), period=st.sampled_from(["day", "week", "month", "ever"]),
    budget=st.none() | st.integers(1, 3_000), points=st.integers(1, 500),
    events=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 24 * 40), st.integers(10_000, 500_000)),
                    min_size=1, max_size=25),
)
def test_random_purchases_never_exceed_caps_or_the_budget(session, now, cap, period, budget, points, events):
    _wipe(session)
    ids = [accounts.create_member(session, ids=accounts.normalise_identifiers(f"h{i}@example.com", None),
                                 now=now).id for i in range(3)]
    rule = design(session, now, points=points, effect="per_amount", per_amount=50_000,
                  cap_points=cap, cap_period=period, budget_points=budget)
    for who, hours, amount in sorted(events, key=lambda e: e[1]):
        at = now + timedelta(hours=hours)
        buy(session, ids[who], at, amount=amount)
    given_out = awards(session)
    total = sum(a.points for a in given_out)
    assert session.get(EarnRule, rule.id).points_awarded == total
    if budget is not None:
        assert total <= budget
    from webapp.services.offers.rule_engine import cap_window
    for a in given_out:
        start, end = cap_window(period, a.created_at, TZ)
        in_window = sum(b.points for b in given_out if b.member_id == a.member_id
                        and (start is None or start <= b.created_at < end))
        assert in_window <= cap
    assert ledger.find_mismatches(session) == []
    session.rollback()
