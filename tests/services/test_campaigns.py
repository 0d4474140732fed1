"""Campaigns as services: validation, the frozen audience and its control group,
bonus awards within the budget, offers for the treatment group only, and the
report on a hand-built scenario."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tests import factories
from webapp.db import Base
from webapp.models import (
    AuditLog,
    Campaign,
    CampaignMember,
    Coupon,
    EarnRule,
    InboxMessage,
    LedgerEntry,
)
from webapp.services import ledger
from webapp.services.ledger.purchases import record_purchase
from webapp.services.members import audit
from webapp.services.offers import campaigns
from webapp.services.offers.campaigns import CampaignDraft, CampaignInvalid, CampaignStateConflict


def bonus_draft(now, **changes) -> CampaignDraft:
    values = {"name": "Autumn thanks", "kind": "bonus", "segment_id": None, "starts_at": now,
              "ends_at": now + timedelta(days=14), "bonus_points": 100, "message_fa": "هدیه پاییزی",
              "message_en": "An autumn gift"}
    return CampaignDraft(**{**values, **changes})


def started(session, draft, now) -> Campaign:
    campaign = campaigns.create_campaign(session, draft, actor=audit.CLI, now=now)
    campaigns.schedule_campaign(session, campaign.id, actor=audit.CLI, now=now)
    campaigns.begin_campaign(session, campaign.id, now=now)
    return campaign


def award_all(session, campaign_id, now, size=campaigns.CHUNK) -> int:
    rounds = 0
    while campaigns.award_next_chunk(session, campaign_id, now=now, size=size):
        rounds += 1
    return rounds


def members(make_member, n):
    return [make_member().id for _ in range(n)]


# -- designing ------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "  "}, "name"),
    ({"control_percent": 51}, "control_percent"),
    ({"control_percent": -1}, "control_percent"),
    ({"budget_points": 99}, "budget_points"),
    ({"bonus_points": 0}, "bonus_points"),
    ({"message_en": ""}, "message_en"),
    ({"message_fa": "", "message_en": ""}, "message_fa"),
    ({"segment_id": 999}, "segment_id"),
    ({"ends_at_offset": timedelta(0)}, "ends_at"),
    ({"ends_at_offset": timedelta(days=400)}, "ends_at"),
])
def test_an_invalid_campaign_is_refused_with_the_field_at_fault(session, now, changes, field):
    if "ends_at_offset" in changes:
        changes = {"ends_at": now + changes.pop("ends_at_offset")}
    with pytest.raises(CampaignInvalid) as refused:
        campaigns.create_campaign(session, bonus_draft(now, **changes), actor=audit.CLI, now=now)
    assert field in refused.value.problems
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_budget_may_equal_one_bonus_and_control_may_be_half(session, now):
    campaign = campaigns.create_campaign(session, bonus_draft(now, budget_points=100, control_percent=50),
                                         actor=audit.CLI, now=now)
    assert (campaign.status, campaign.budget_points, campaign.control_percent) == ("draft", 100, 50)
    assert len(campaign.seed) == 32


def test_the_database_holds_the_control_group_to_the_services_limit(session, now):
    """Both the migrated schema (the tests' database) and the model's own DDL
    refuse a control group above MAX_CONTROL_PERCENT, as the service does."""
    campaign = campaigns.create_campaign(session, bonus_draft(now), actor=audit.CLI, now=now)
    limit = campaigns.MAX_CONTROL_PERCENT
    raise_to = update(Campaign).where(Campaign.id == campaign.id)
    with session.begin_nested():
        session.execute(raise_to.values(control_percent=limit))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(raise_to.values(control_percent=limit + 1))

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[Campaign.__table__])
    row = {"name": "x", "kind": "bonus", "starts_at": now, "ends_at": now, "seed": "s", "status": "draft"}
    with engine.begin() as conn:
        conn.execute(insert(Campaign), {**row, "control_percent": limit})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Campaign), {**row, "control_percent": limit + 1})
    engine.dispose()


def test_an_offer_needs_a_reward_at_most_its_catalog_price(session, now):
    item = factories.reward(session, cost_points=500)
    draft = bonus_draft(now, kind="offer", reward_id=item.id, offer_cost_points=501, message_fa=None,
                        message_en=None)
    with pytest.raises(CampaignInvalid) as refused:
        campaigns.create_campaign(session, draft, actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"offer_cost_points"}
    campaign = campaigns.create_campaign(session, CampaignDraft(**{**draft.__dict__, "offer_cost_points": 200}),
                                         actor=audit.CLI, now=now)
    assert (campaign.bonus_points, campaign.budget_points, campaign.offer_cost_points) == (None, None, 200)


def test_every_staff_change_is_audited_and_only_drafts_are_edited(session, now):
    campaign = campaigns.create_campaign(session, bonus_draft(now), actor=audit.CLI, now=now)
    campaigns.update_campaign(session, campaign.id, bonus_draft(now, bonus_points=150), actor=audit.CLI, now=now)
    campaigns.schedule_campaign(session, campaign.id, actor=audit.CLI, now=now)
    with pytest.raises(CampaignStateConflict):
        campaigns.update_campaign(session, campaign.id, bonus_draft(now), actor=audit.CLI, now=now)
    campaigns.cancel_campaign(session, campaign.id, actor=audit.CLI, now=now)
    with pytest.raises(CampaignStateConflict):
        campaigns.cancel_campaign(session, campaign.id, actor=audit.CLI, now=now)
    actions = list(session.scalars(select(AuditLog.action).where(AuditLog.object_type == "campaign")
                                   .order_by(AuditLog.id)))
    assert actions == ["campaigns.create", "campaigns.update", "campaigns.schedule", "campaigns.cancel"]


# -- running --------------------------------------------------------------------------


def test_a_scheduled_campaign_does_not_begin_before_its_start(session, now, make_member):
    members(make_member, 2)
    campaign = campaigns.create_campaign(session, bonus_draft(now + timedelta(hours=1)), actor=audit.CLI, now=now)
    campaigns.schedule_campaign(session, campaign.id, actor=audit.CLI, now=now)
    assert campaigns.due_campaign_ids(session, now) == []
    assert campaigns.begin_campaign(session, campaign.id, now=now) is None
    assert campaigns.due_campaign_ids(session, now + timedelta(hours=1)) == [campaign.id]


def test_the_bonus_reaches_every_treatment_member_once(session, now, make_member):
    ids = members(make_member, 7)
    campaign = started(session, bonus_draft(now, control_percent=30), now)
    assert award_all(session, campaign.id, now, size=3) == 2  # 5 treatment members in chunks of 3
    assert award_all(session, campaign.id, now) == 0  # a second run finds nothing to do
    session.refresh(campaign)
    control = set(session.scalars(select(CampaignMember.member_id).where(CampaignMember.in_control)))
    assert len(control) == 2 and control < set(ids)  # round(7 × 30 %)
    rows = dict(session.execute(select(LedgerEntry.member_id, LedgerEntry.amount)
                                .where(LedgerEntry.source_type == "campaign")).all())
    assert rows == {mid: 100 for mid in ids if mid not in control}  # control members get nothing
    assert (campaign.status, campaign.members_total, campaign.members_done, campaign.points_awarded) == \
        ("done", 5, 5, 500)
    messages = session.execute(select(InboxMessage.member_id, InboxMessage.kind, InboxMessage.params)).all()
    assert {m for m, _, _ in messages} == set(rows)
    assert {(k, p["points"], p["en"]) for _, k, p in messages} == {("campaign", 100, "An autumn gift")}
    assert ledger.find_mismatches(session) == []


def test_the_budget_is_never_exceeded_and_the_rest_are_recorded_unpaid(session, now, make_member):
    ids = members(make_member, 6)
    campaign = started(session, bonus_draft(now, budget_points=350), now)
    award_all(session, campaign.id, now, size=2)
    session.refresh(campaign)
    assert (campaign.points_awarded, campaign.members_done, campaign.status) == (300, 6, "done")
    paid = dict(session.execute(select(CampaignMember.member_id, CampaignMember.points)).all())
    assert paid == {mid: (100 if i < 3 else 0) for i, mid in enumerate(sorted(ids))}  # id order
    assert session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.source_type == "campaign")) == 300


def test_the_control_group_is_deterministic_for_a_seed_and_close_to_the_percent():
    ids = list(range(1, 10_001))
    drawn = campaigns.draw_control_group("a" * 32, ids, 20)
    assert len(drawn) == 2_000
    assert drawn == campaigns.draw_control_group("a" * 32, list(reversed(ids)), 20)
    other = campaigns.draw_control_group("b" * 32, ids, 20)
    assert 300 < len(set(drawn) & set(other)) < 500  # independent draws overlap by about 20 % of 2,000
    assert sum(1 for i in drawn if i <= 5_000) in range(900, 1_101)  # spread over the ids, not a block
    assert campaigns.draw_control_group("a" * 32, ids, 0) == []


def test_a_resumed_run_after_a_crash_gives_the_same_totals(session, now, make_member):
    members(make_member, 5)
    campaign = started(session, bonus_draft(now), now)
    session.commit()
    campaigns.award_next_chunk(session, campaign.id, now=now, size=2)
    session.rollback()  # the worker died before committing this chunk
    campaigns.award_next_chunk(session, campaign.id, now=now, size=2)
    session.commit()
    award_all(session, campaign.id, now, size=2)
    session.commit()
    session.refresh(campaign)
    assert (campaign.members_done, campaign.points_awarded) == (5, 500)
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.source_type == "campaign")) == 5


# -- offers ----------------------------------------------------------------------------


def test_offers_are_visible_only_to_the_treatment_group_during_the_window(session, now, make_member):
    ids = members(make_member, 10)
    item = factories.reward(session, cost_points=500)
    draft = bonus_draft(now, kind="offer", reward_id=item.id, offer_cost_points=200, control_percent=40,
                        message_fa=None, message_en=None)
    campaign = started(session, draft, now)
    control = set(session.scalars(select(CampaignMember.member_id).where(CampaignMember.in_control)))
    assert len(control) == 4
    for mid in ids:
        expected = {} if mid in control else {item.id: campaigns.Offer(campaign.id, 200)}
        assert campaigns.member_offers(session, mid, now) == expected
        assert campaigns.in_treatment(session, campaign.id, mid) is (mid not in control)
    treated = next(mid for mid in ids if mid not in control)
    assert campaigns.member_offers(session, treated, campaign.ends_at) == {}
    assert campaigns.finish_ended_campaigns(session, campaign.ends_at) == [campaign.id]
    assert campaigns.member_offers(session, treated, now) == {}  # done: no longer on offer


def test_an_earn_rule_campaign_activates_its_draft_rule_for_the_window(session, now, make_member):
    members(make_member, 2)
    rule = EarnRule(name_fa="دوبرابر", name_en="Double", trigger="purchase", effect="fixed", points=50)
    session.add(rule)
    session.flush()
    draft = bonus_draft(now, kind="earn_rule", earn_rule_id=rule.id, budget_points=5_000, message_fa=None,
                        message_en=None)
    campaign = started(session, draft, now)
    session.refresh(rule)
    assert (rule.status, rule.campaign_id, rule.starts_at, rule.ends_at, rule.budget_points) == \
        ("active", campaign.id, campaign.starts_at, campaign.ends_at, 5_000)
    campaigns.finish_ended_campaigns(session, campaign.ends_at)
    session.refresh(rule)
    assert rule.status == "ended"


# -- the report -------------------------------------------------------------------------


def test_the_report_compares_treatment_and_control_over_the_window(session, now, make_member):
    ids = members(make_member, 10)
    item = factories.reward(session, cost_points=500)
    draft = bonus_draft(now, kind="offer", reward_id=item.id, offer_cost_points=100, control_percent=50,
                        message_fa=None, message_en=None)
    campaign = started(session, draft, now)
    control = sorted(session.scalars(select(CampaignMember.member_id).where(CampaignMember.in_control)))
    treated = sorted(set(ids) - set(control))
    inside, before, after = now + timedelta(days=1), now - timedelta(days=1), campaign.ends_at

    def buy(mid, amount, when):
        record_purchase(session, member_id=mid, amount=amount, currency="IRR", occurred_at=when, now=when)

    # treatment: 3 buyers, 4 purchases, 1,000,000 spent; control: 1 buyer, 1 purchase, 200,000
    buy(treated[0], 300_000, inside)
    buy(treated[0], 100_000, inside)
    buy(treated[1], 500_000, inside)
    buy(treated[2], 100_000, inside)
    buy(control[0], 200_000, inside)
    buy(control[1], 900_000, before)  # outside the window: not counted
    buy(control[2], 900_000, after)
    for n, mid in enumerate((treated[0], treated[1], control[0])):
        session.add(Coupon(code=f"C{n}", member_id=mid, reward_id=item.id, kind=item.kind, points_spent=100,
                           request_key=f"k{n}", issued_at=inside))
    session.flush()

    report = campaigns.campaign_report(session, campaign.id, now=after + timedelta(days=1))
    t, c = report.treatment, report.control
    assert (t.members, t.engaged, t.purchases, t.spend) == (5, 2, 4, 1_000_000)
    assert (c.members, c.engaged, c.purchases, c.spend) == (5, 1, 1, 200_000)
    assert report.engaged_by == "redeemed"
    assert (t.spend_per_member, c.spend_per_member) == (200_000, 40_000)
    assert report.lift("spend_per_member") == campaigns.Lift(160_000, 400)
    assert report.lift("purchases_per_member") == campaigns.Lift(Decimal("0.6"), 300)
    assert report.lift("engaged_rate") == campaigns.Lift(20, 100)


def test_an_earn_rule_campaign_reports_the_points_its_rule_gave_each_group(session, now, make_member):
    ids = members(make_member, 10)
    rule = EarnRule(name_fa="دوبرابر", name_en="Double", trigger="purchase", effect="fixed", points=50)
    everyday = EarnRule(name_fa="همیشگی", name_en="Everyday", trigger="purchase", effect="fixed", points=7,
                        status="active")  # another family, for everyone: not the campaign's points
    session.add_all([rule, everyday])
    session.flush()
    draft = bonus_draft(now, kind="earn_rule", earn_rule_id=rule.id, control_percent=50, message_fa=None,
                        message_en=None)
    campaign = started(session, draft, now)
    control = sorted(session.scalars(select(CampaignMember.member_id).where(CampaignMember.in_control)))
    treated = sorted(set(ids) - set(control))
    inside = now + timedelta(days=1)
    for mid in (treated[0], treated[0], treated[1], control[0]):
        record_purchase(session, member_id=mid, amount=100_000, currency="IRR", occurred_at=inside, now=inside)

    report = campaigns.campaign_report(session, campaign.id, now=inside + timedelta(hours=1))
    assert (report.treatment.points, report.control.points) == (150, 0)  # 3 purchases × 50; control none
    assert campaigns.campaign_report(session, campaign.id, now=inside).treatment.points == 0  # window so far


def test_a_report_without_a_control_group_has_no_lift(session, now, make_member):
    members(make_member, 3)
    campaign = started(session, bonus_draft(now), now)
    award_all(session, campaign.id, now)
    report = campaigns.campaign_report(session, campaign.id, now=now + timedelta(days=1))
    assert (report.treatment.members, report.treatment.points, report.control.members) == (3, 300, 0)
    assert report.lift("spend_per_member") == campaigns.Lift(None, None)
