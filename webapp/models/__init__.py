"""Typed SQLAlchemy 2.0 models. Import from here so Alembic sees them all."""

from webapp.models.club import ApiIdempotency, ClubSetting
from webapp.models.ledger import CURRENCIES, LedgerEntry, PointLot
from webapp.models.member import MEMBER_STATUSES, Member
from webapp.models.purchase import Purchase, PurchaseItem, PurchaseRefund
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
    "utcnow",
]
