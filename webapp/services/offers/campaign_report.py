"""A campaign's report: the treatment group against the hold-out control group
over the campaign's window (members, engaged, purchases, spend, points)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Campaign, CampaignMember, Coupon, EarnRule, Purchase, RuleAward
from webapp.services.errors import NotFound


@dataclass(frozen=True)
class Group:
    members: int
    engaged: int
    purchases: int
    spend: int
    points: int

    def per_member(self, value: int) -> Decimal | None:
        return Decimal(value) / self.members if self.members else None

    @property
    def engaged_rate(self) -> Decimal | None:
        return self.per_member(self.engaged * 100)  # percent

    @property
    def purchases_per_member(self) -> Decimal | None:
        return self.per_member(self.purchases)

    @property
    def spend_per_member(self) -> Decimal | None:
        return self.per_member(self.spend)


@dataclass(frozen=True)
class Lift:
    difference: Decimal | None
    relative: Decimal | None  # difference / control, as a percent


@dataclass(frozen=True)
class Report:
    treatment: Group
    control: Group
    engaged_by: str  # "redeemed" (offer) or "purchased"
    window_start: datetime
    window_end: datetime

    def lift(self, measure: str) -> Lift:
        t, c = getattr(self.treatment, measure), getattr(self.control, measure)
        if t is None or c is None:
            return Lift(None, None)
        return Lift(t - c, (t - c) * 100 / c if c else None)


def campaign_report(session: Session, campaign_id: int, now: datetime) -> Report:
    """Treatment against control over [starts_at, min(ends_at, now)): members,
    engaged, purchases and spend (net of refunds). One grouped query per measure."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("Campaign not found.", campaign_id=campaign_id)
    start, end = campaign.starts_at, min(campaign.ends_at, now)
    mine = CampaignMember.campaign_id == campaign.id
    members = dict.fromkeys((False, True), (0, 0))
    for control, n, points in session.execute(
            select(CampaignMember.in_control, func.count(), func.coalesce(func.sum(CampaignMember.points), 0))
            .where(mine).group_by(CampaignMember.in_control)):
        members[bool(control)] = (int(n), int(points))
    bought = dict.fromkeys((False, True), (0, 0, 0))
    for control, buyers, n, spend in session.execute(
            select(CampaignMember.in_control, func.count(func.distinct(Purchase.member_id)),
                   func.count(Purchase.id),
                   func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0))
            .join(Purchase, Purchase.member_id == CampaignMember.member_id)
            .where(mine, Purchase.occurred_at >= start, Purchase.occurred_at < end)
            .group_by(CampaignMember.in_control)):
        bought[bool(control)] = (int(buyers), int(n), int(spend))
    engaged = {k: v[0] for k, v in bought.items()}
    engaged_by = "purchased"
    if campaign.kind == "offer" and campaign.reward_id is not None:
        engaged_by = "redeemed"
        engaged = dict.fromkeys((False, True), 0)
        for control, n in session.execute(
                select(CampaignMember.in_control, func.count(func.distinct(Coupon.member_id)))
                .join(Coupon, Coupon.member_id == CampaignMember.member_id)
                .where(mine, Coupon.reward_id == campaign.reward_id, Coupon.issued_at >= start,
                       Coupon.issued_at < end, Coupon.status != "cancelled")
                .group_by(CampaignMember.in_control)):
            engaged[bool(control)] = int(n)
    points = {k: v[1] for k, v in members.items()}  # a bonus is recorded on campaign_member
    if campaign.kind == "earn_rule" and campaign.earn_rule_id is not None:
        points = _rule_points(session, campaign, start, end)

    def group(control: bool) -> Group:
        return Group(members=members[control][0], engaged=engaged[control], purchases=bought[control][1],
                     spend=bought[control][2], points=points[control])

    return Report(group(False), group(True), engaged_by, start, end)


def _rule_points(session: Session, campaign: Campaign, start: datetime, end: datetime) -> dict[bool, int]:
    """Points the campaign's earn rule (every version: its family) gave each group
    over the window, in one grouped query. The engine applies the rule to the
    treatment group only, so control should show 0; the report shows what is true."""
    family = select(func.coalesce(EarnRule.family_id, EarnRule.id)).where(
        EarnRule.id == campaign.earn_rule_id).scalar_subquery()
    points = dict.fromkeys((False, True), 0)
    for control, total in session.execute(
            select(CampaignMember.in_control, func.coalesce(func.sum(RuleAward.points), 0))
            .join(RuleAward, RuleAward.member_id == CampaignMember.member_id)
            .where(CampaignMember.campaign_id == campaign.id, RuleAward.family_id == family,
                   RuleAward.created_at >= start, RuleAward.created_at < end)
            .group_by(CampaignMember.in_control)):
        points[bool(control)] = int(total)
    return points
