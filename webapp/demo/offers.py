"""The demo club's offer engine: a few earn rules, a rewards catalog, a segment,
a challenge and a campaign draft, made through the same services staff use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import EarnRule, Reward, Tier
from webapp.services.members import audit
from webapp.services.offers import campaigns, challenges, earn_rules, rewards, segments
from webapp.services.offers.rule_engine import Conditions, Rule
from webapp.services.offers.voucher_codes import add_voucher_codes

FRIDAY = 4  # date.weekday(): the Iranian weekend


def load_demo_offers(session: Session, *, now: datetime) -> None:
    """Once: does nothing when the club already has rules or rewards."""
    if session.scalar(select(func.count()).select_from(EarnRule)) or session.scalar(
        select(func.count()).select_from(Reward)
    ):
        return
    since = now - timedelta(days=120)
    _demo_rules(session, since=since)
    _demo_catalog(session, since=since)
    _demo_challenge(session, now=now)
    _demo_comeback_campaign(session, since=since, now=now)


def _demo_rules(session: Session, *, since: datetime) -> None:
    for rule in (
        Rule(None, None, "purchase", "جمعه‌ها امتیاز دوبرابر", "Friday double points",
             Conditions(weekdays=frozenset({FRIDAY})), effect="per_amount", points=1,
             per_amount=10_000, cap_points=2_000, cap_period="day"),
        # percent effects give points as a share of the money amount: with rials
        # that is a tiny share (0.02% of 1,000,000 rials = 200 points)
        Rule(None, None, "purchase", "قهوه‌دوست", "Coffee lover",
             Conditions(categories=frozenset({"coffee"})), effect="percent", percent_bp=2,
             budget_points=100_000),
        Rule(None, None, "signup", "هدیهٔ خوش‌آمد", "Welcome gift", points=100,
             use_tier_multiplier=False),
        Rule(None, None, "checkin", "سر زدن روزانه", "Daily check-in", points=5,
             use_tier_multiplier=False, streak_bonuses=((7, 50), (30, 300))),
        Rule(None, None, "birthday", "تولدت مبارک", "Happy birthday", points=500),
        Rule(None, None, "profile_completed", "تکمیل نمایه", "Profile completed", points=200,
             use_tier_multiplier=False),
    ):
        row = earn_rules.create_rule(session, rule, actor=audit.CLI, now=since)
        earn_rules.activate_rule(session, row.id, actor=audit.CLI, now=since)


def _demo_catalog(session: Session, *, since: datetime) -> None:
    gold = session.scalar(select(Tier.id).where(Tier.code == "gold"))
    catalog = [
        rewards.RewardData("free_product", "یک قهوهٔ رایگان", "A free coffee", 300,
                           "هر قهوه‌ای که دوست داری، مهمان ما.", "Any coffee you like, on us.",
                           product_sku="SKU-COFFEE", coupon_valid_days=30, status="active"),
        rewards.RewardData("coupon_percent", "۱۰٪ تخفیف خرید بعدی", "10% off your next purchase", 800,
                           value=1_000, per_member_limit=2, coupon_valid_days=60, status="active"),
        rewards.RewardData("credit", "۵۰٬۰۰۰ ریال اعتبار خرید", "50,000 rials of store credit", 500,
                           value=50_000, status="active"),
        rewards.RewardData("coupon_amount", "۵۰۰٬۰۰۰ ریال تخفیف", "500,000 rials off", 4_000,
                           value=500_000, stock=20, coupon_valid_days=30, status="active"),
        rewards.RewardData("free_product", "کیک تولد طلایی", "Gold birthday cake", 1_500,
                           product_sku="SKU-CAKE", min_tier_id=gold,
                           per_member_limit=1, status="active"),
        rewards.RewardData("partner_voucher", "بلیت سینما", "Cinema ticket", 2_500,
                           "کد را در سایت سینما وارد کن.", "Enter the code on the cinema's site.",
                           per_member_limit=1, status="active"),
    ]
    saved = [rewards.save_reward(session, data, actor=audit.CLI, now=since) for data in catalog]
    add_voucher_codes(session, saved[-1].id, [f"CINEMA-DEMO-{n:03d}" for n in range(1, 26)],
                      actor=audit.CLI, now=since)


def _demo_challenge(session: Session, *, now: datetime) -> None:
    actor = audit.CLI
    challenge = challenges.create_challenge(session, challenges.ChallengeSpec(
        name_fa="پنج بار در این ماه", name_en="Five visits this month", metric="purchase_count",
        goal=5, starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=27),
        description_fa="با پیوستن، همهٔ خریدهایت ۱٫۵ برابر امتیاز می‌گیرند؛ پنج خرید = ۵۰۰ امتیاز هدیه.",
        description_en="Join and every purchase earns 1.5× points; five purchases = 500 bonus points.",
        perk_multiplier_bp=15_000, reward_points=500), actor=actor, now=now)
    challenges.activate_challenge(session, challenge.id, actor=actor, now=now)


def _demo_comeback_campaign(session: Session, *, since: datetime, now: datetime) -> None:
    """A bonus for members who stopped coming, drafted for tomorrow."""
    actor = audit.CLI
    lapsed = segments.create_segment(
        session, name="Lapsed 30+ days", actor=actor, now=since,
        description="Bought before, nothing in the last 30 days",
        conditions=[{"field": "last_purchase", "op": "gte", "value": 30}])
    campaigns.create_campaign(session, campaigns.CampaignDraft(
        name="Come back bonus", kind="bonus", segment_id=lapsed.id, starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=31), control_percent=10, budget_points=50_000, bonus_points=250,
        message_fa="دلمان برایت تنگ شده! ۲۵۰ امتیاز هدیه برای خرید بعدی‌ات.",
        message_en="We miss you! 250 bonus points for your next visit."), actor=actor, now=now)
