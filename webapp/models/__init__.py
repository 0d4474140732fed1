"""Typed SQLAlchemy 2.0 models. Import from here so Alembic sees them all."""

from webapp.models.campaigns import (
    CAMPAIGN_KINDS,
    CAMPAIGN_STATUSES,
    Campaign,
    CampaignMember,
    Segment,
)
from webapp.models.challenges import (
    CHALLENGE_METRICS,
    CHALLENGE_STATUSES,
    Challenge,
    ChallengeEntry,
)
from webapp.models.club import ApiIdempotency, ClubSetting
from webapp.models.instant_win import (
    INSTANT_WIN_OUTCOMES,
    INSTANT_WIN_PRIZE_KINDS,
    INSTANT_WIN_STATUSES,
    INSTANT_WIN_STYLES,
    InstantWinGame,
    InstantWinPlay,
    InstantWinPrize,
)
from webapp.models.ledger import CURRENCIES, LedgerEntry, PointLot
from webapp.models.member import MEMBER_STATUSES, Member
from webapp.models.purchase import Purchase, PurchaseItem, PurchaseRefund
from webapp.models.rewards import (
    COUPON_STATUSES,
    REWARD_KINDS,
    REWARD_STATUSES,
    Coupon,
    Reward,
    VoucherCode,
)
from webapp.models.rules import (
    CAP_PERIODS,
    RULE_EFFECTS,
    RULE_STATUSES,
    RULE_TRIGGERS,
    CheckIn,
    EarnRule,
    RuleAward,
)
from webapp.models.staff import ROLE_CAPABILITIES, ROLES, ApiKey, AuditLog, Staff
from webapp.models.tier import (
    CALENDAR_PERIODS,
    METRICS,
    WINDOW_KINDS,
    CreditRefund,
    CreditSpend,
    InboxMessage,
    Tier,
    TierHistory,
    TierProgram,
)
from webapp.models.types import utcnow

__all__ = [
    "CALENDAR_PERIODS",
    "METRICS",
    "WINDOW_KINDS",
    "CreditRefund",
    "CreditSpend",
    "InboxMessage",
    "Tier",
    "TierHistory",
    "TierProgram",
    "CURRENCIES",
    "MEMBER_STATUSES",
    "ROLES",
    "ROLE_CAPABILITIES",
    "ApiIdempotency",
    "ApiKey",
    "AuditLog",
    "ClubSetting",
    "LedgerEntry",
    "Member",
    "PointLot",
    "Purchase",
    "PurchaseItem",
    "PurchaseRefund",
    "Staff",
    "CAMPAIGN_KINDS",
    "CAMPAIGN_STATUSES",
    "Campaign",
    "CampaignMember",
    "Segment",
    "CHALLENGE_METRICS",
    "CHALLENGE_STATUSES",
    "Challenge",
    "ChallengeEntry",
    "COUPON_STATUSES",
    "REWARD_KINDS",
    "REWARD_STATUSES",
    "Coupon",
    "Reward",
    "VoucherCode",
    "CAP_PERIODS",
    "RULE_EFFECTS",
    "RULE_STATUSES",
    "RULE_TRIGGERS",
    "CheckIn",
    "EarnRule",
    "RuleAward",
    "utcnow",
    "INSTANT_WIN_OUTCOMES",
    "INSTANT_WIN_PRIZE_KINDS",
    "INSTANT_WIN_STATUSES",
    "INSTANT_WIN_STYLES",
    "InstantWinGame",
    "InstantWinPlay",
    "InstantWinPrize",
]
