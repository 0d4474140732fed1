"""The pure earn-rule engine: every condition at its boundaries, effects,
multipliers, cap windows in the club's calendar, and the designer's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.offers import rule_engine as re_
from webapp.services.offers.rule_engine import Conditions, Event, Item, Member, Rule

TZ = "Asia/Tehran"
TEHRAN = ZoneInfo(TZ)
# Wednesday 2026-11-25 13:00 in Tehran
WED_1PM = datetime(2026, 11, 25, 13, 0, tzinfo=TEHRAN)


def rule(**kw) -> Rule:
    base = {"id": 1, "family_id": 1, "trigger": "purchase", "name_fa": "قانون", "name_en": "Rule",
            "effect": "fixed", "points": 100}
    cond = kw.pop("cond", {})
    return Rule(**{**base, **kw}, conditions=Conditions(**cond))


def event(**kw) -> Event:
    return Event(**{"trigger": "purchase", "at": WED_1PM, "amount": 100_000, **kw})


def outcome(r: Rule, e: Event | None = None, m: Member | None = None) -> re_.Outcome:
    (o,) = re_.evaluate([r], e or event(), m or Member(), TZ)
    return o


def test_a_rule_without_conditions_matches_every_event_of_its_trigger():
    o = outcome(rule())
    assert o.matched and o.points == 100 and o.reason is None


def test_rules_of_other_triggers_are_not_evaluated():
    assert re_.evaluate([rule(trigger="signup")], event(), Member(), TZ) == []


@pytest.mark.parametrize(("amount", "matched"), [(49_999, False), (50_000, True), (50_001, True)])
def test_minimum_amount_is_inclusive(amount, matched):
    o = outcome(rule(cond={"min_amount": 50_000}), event(amount=amount))
    assert o.matched is matched and (matched or o.reason == "min_amount")


def test_sku_and_category_conditions_need_a_matching_item_and_count_only_those_items():
    r = rule(effect="percent", percent_bp=1_000, cond={"skus": frozenset({"A1"}),
                                                       "categories": frozenset({"coffee"})})
    items = (Item("A1", None, 2, 10_000), Item("Z9", "coffee", 1, 5_000), Item("Z8", "tea", 1, 70_000))
    o = outcome(r, event(amount=95_000, items=items))
    assert o.matched and o.basis == 25_000 and o.points == 2_500
    miss = outcome(r, event(items=(Item("Z8", "tea", 1, 70_000),)))
    assert not miss.matched and miss.reason == "items"
    assert outcome(r, event(items=())).reason == "items"


def test_channel_and_store_conditions():
    r = rule(cond={"channels": frozenset({"web"}), "stores": frozenset({"north"})})
    assert outcome(r, event(channel="pos", store="north")).reason == "channel"
    assert outcome(r, event(channel="web", store="south")).reason == "store"
    assert outcome(r, event(channel="web", store=None)).reason == "store"
    assert outcome(r, event(channel="web", store="north")).matched


@pytest.mark.parametrize(("hour", "minute", "matched"), [
    (16, 59, False), (17, 0, True), (20, 59, True), (21, 0, False)])
def test_hour_window_is_club_local_and_half_open(hour, minute, matched):
    r = rule(cond={"hour_from": 17, "hour_to": 21})
    at = datetime(2026, 11, 25, hour, minute, tzinfo=TEHRAN).astimezone(UTC)  # UTC in, local rules
    assert outcome(r, event(at=at)).matched is matched


@pytest.mark.parametrize(("day", "hour", "matched"), [
    (27, 21, False), (27, 22, True), (27, 23, True), (28, 0, True), (28, 1, True), (28, 2, False),
    (28, 22, False), (29, 1, False)])
def test_a_window_wrapping_midnight_belongs_to_the_weekday_it_opened_on(day, hour, matched):
    # Friday (4) 22:00 – 02:00: Saturday 01:00 counts as Friday night; Saturday 22:00 does not
    r = rule(cond={"weekdays": frozenset({4}), "hour_from": 22, "hour_to": 2})
    at = datetime(2026, 11, day, hour, 30, tzinfo=TEHRAN)
    assert outcome(r, event(at=at)).matched is matched


def test_weekday_uses_the_club_time_zone_not_utc():
    # 2026-11-26 22:00 UTC is Friday 01:30 in Tehran
    r = rule(cond={"weekdays": frozenset({4})})
    assert outcome(r, event(at=datetime(2026, 11, 26, 22, 0, tzinfo=UTC))).matched
    assert outcome(r, event(at=datetime(2026, 11, 26, 20, 0, tzinfo=UTC))).reason == "weekday"


def test_tier_segment_first_purchase_and_campaign_conditions():
    assert outcome(rule(cond={"tier_ids": frozenset({2})}), m=Member(tier_id=1)).reason == "tier"
    assert outcome(rule(cond={"tier_ids": frozenset({2})}), m=Member(tier_id=2)).matched
    seg = rule(cond={"segment_id": 7})
    assert outcome(seg, m=Member(segment_ids=frozenset({3}))).reason == "segment"
    assert outcome(seg, m=Member(segment_ids=frozenset({7}))).matched
    assert outcome(seg, m=Member(segment_ids=None)).reason == "segment"  # unknown: not assumed
    first = rule(cond={"first_purchase_only": True})
    assert outcome(first, m=Member(first_purchase=False)).reason == "first_purchase"
    assert outcome(first, m=Member(first_purchase=True)).matched
    camp = rule(campaign_id=4)
    assert outcome(camp, m=Member(campaign_ids=frozenset())).reason == "campaign"
    assert outcome(camp, m=Member(campaign_ids=frozenset({4}))).matched


def test_validity_dates_start_inclusive_end_exclusive():
    r = rule(starts_at=WED_1PM, ends_at=WED_1PM + timedelta(days=1))
    assert outcome(r, event(at=WED_1PM - timedelta(seconds=1))).reason == "not_started"
    assert outcome(r, event(at=WED_1PM)).matched
    assert outcome(r, event(at=WED_1PM + timedelta(days=1))).reason == "expired"


def test_effects_per_step_and_percent_round_down():
    assert outcome(rule(effect="per_amount", points=3, per_amount=10_000), event(amount=39_999)).points == 9
    assert outcome(rule(effect="percent", percent_bp=150), event(amount=99_999)).points == 1_499
    small = outcome(rule(effect="percent", percent_bp=1), event(amount=9_999))
    assert not small.matched and small.reason == "zero_points"


def test_tier_multiplier_applies_unless_the_rule_says_not_and_perks_only_to_purchases():
    gold = Member(tier_multiplier_bp=15_000, perk_multipliers_bp=(20_000,))
    o = outcome(rule(points=101), m=gold)
    assert o.points == 101 * 15_000 // 10_000 * 2 and o.multiplier_bp == 30_000
    assert outcome(rule(points=101, use_tier_multiplier=False), m=gold).points == 202
    signup = outcome(rule(trigger="signup", points=101), event(trigger="signup"), gold)
    assert signup.points == 151


def test_streak_bonus_is_added_on_its_day_only():
    r = rule(trigger="checkin", points=10, streak_bonuses=((7, 50),))
    assert outcome(r, event(trigger="checkin", streak_day=6)).points == 10
    assert outcome(r, event(trigger="checkin", streak_day=7)).points == 60
    assert re_.next_bonus(r, 6) == (7, 50) and re_.next_bonus(r, 7) is None


def test_cap_windows_follow_the_club_calendar():
    # Wednesday 1 p.m. Tehran: day from local midnight, week from Saturday, Jalali month (Azar)
    start, end = re_.cap_window("day", WED_1PM, TZ)
    assert (start, end) == (datetime(2026, 11, 25, tzinfo=TEHRAN), datetime(2026, 11, 26, tzinfo=TEHRAN))
    start, end = re_.cap_window("week", WED_1PM, TZ)
    assert start == datetime(2026, 11, 21, tzinfo=TEHRAN) and end - start == timedelta(days=7)
    start, end = re_.cap_window("month", WED_1PM, TZ)
    assert start == datetime(2026, 11, 22, tzinfo=TEHRAN) and end == datetime(2026, 12, 22, tzinfo=TEHRAN)
    assert re_.cap_window("ever", WED_1PM, TZ) == (None, None)
    # 23:59 Tehran on a Friday is still that week; Saturday 00:00 starts the next
    fri = datetime(2026, 11, 27, 23, 59, tzinfo=TEHRAN)
    assert re_.cap_window("week", fri, TZ)[1] == datetime(2026, 11, 28, tzinfo=TEHRAN)


@given(points=st.integers(0, 10_000), cap=st.none() | st.integers(1, 5_000),
       used=st.integers(0, 5_000), budget=st.none() | st.integers(0, 5_000))
def test_capped_never_exceeds_cap_budget_or_points(points, cap, used, budget):
    got = re_.capped(points, cap_points=cap, used=min(used, cap or used), budget_left=budget)
    assert 0 <= got <= points
    if cap is not None:
        assert got + min(used, cap) <= cap
    if budget is not None:
        assert got <= budget


@pytest.mark.parametrize(("changes", "field"), [
    ({"name_en": " "}, "name_en"),
    ({"points": 0}, "points"),
    ({"effect": "per_amount", "per_amount": None}, "per_amount"),
    ({"effect": "percent", "percent_bp": 0}, "percent"),
    ({"trigger": "signup", "effect": "percent", "percent_bp": 100}, "effect"),
    ({"trigger": "signup", "cond": {"min_amount": 5}}, "trigger"),
    ({"cond": {"hour_from": 5}}, "hour_to"),
    ({"cond": {"hour_from": 5, "hour_to": 5}}, "hour_to"),
    ({"cap_points": 10}, "cap_points"),
    ({"budget_points": 50, "points_awarded": 80}, "budget_points"),
    ({"starts_at": WED_1PM, "ends_at": WED_1PM}, "ends_at"),
    ({"streak_bonuses": ((7, 5),)}, "streak_bonuses"),
])
def test_the_designer_check_names_the_field_that_is_wrong(changes, field):
    assert field in re_.check_rule(rule(**changes))


def test_a_complete_rule_passes_the_check():
    assert re_.check_rule(rule(cap_points=500, cap_period="week", budget_points=10_000,
                               cond={"hour_from": 22, "hour_to": 2, "weekdays": frozenset({4})})) == {}


def test_conditions_round_trip_through_their_stored_form():
    cond = Conditions(min_amount=5, skus=frozenset({"b", "a"}), weekdays=frozenset({4, 5}),
                      hour_from=22, hour_to=2, tier_ids=frozenset({3}), segment_id=9,
                      first_purchase_only=True)
    assert Conditions.from_dict(cond.to_dict()) == cond
    assert cond.to_dict()["skus"] == ["a", "b"]
