from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

RULE_TRIGGERS = (
    "purchase", "signup", "checkin", "profile_completed", "birthday",
    "referral_qualified", "contest_played", "raffle_entered", "feedback_given", "instant_win_played",
)
RULE_STATUSES = ("draft", "active", "ended")
RULE_EFFECTS = ("fixed", "per_amount", "percent")
CAP_PERIODS = ("day", "week", "month", "ever")


class EarnRule(Base):
    """One version of an earn rule designed by staff. A rule in use is never edited
    in place: a change makes version n+1 (same `family_id`) and ends version n, so
    every award keeps pointing at the exact terms that gave it."""

    __tablename__ = "earn_rule"
    __table_args__ = (
        UniqueConstraint("family_id", "version"),
        CheckConstraint("status IN ('draft', 'active', 'ended')", name="status_known"),
        CheckConstraint("effect IN ('fixed', 'per_amount', 'percent')", name="effect_known"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("budget_points IS NULL OR points_awarded <= budget_points", name="within_budget"),
        Index("ix_earn_rule_trigger_status", "trigger", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(Integer, index=True)  # id of version 1
    version: Mapped[int] = mapped_column(Integer, default=1)
    name_fa: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # {"min_amount": int, "skus": [...], "categories": [...], "channels": [...],
    #  "stores": [...], "weekdays": [0..6], "hour_from": h, "hour_to": h,
    #  "tier_ids": [...], "segment_id": id, "first_purchase_only": bool}
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    effect: Mapped[str] = mapped_column(String(12), default="fixed")
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # fixed points, or points per step
    per_amount: Mapped[int | None] = mapped_column(BigInteger)  # money step for per_amount
    percent_bp: Mapped[int | None] = mapped_column(Integer)  # percent of amount, basis points
    use_tier_multiplier: Mapped[bool] = mapped_column(default=True)
    cap_points: Mapped[int | None] = mapped_column(BigInteger)  # per member per cap_period
    cap_period: Mapped[str | None] = mapped_column(String(8))
    budget_points: Mapped[int | None] = mapped_column(BigInteger)  # the whole rule (all versions)
    points_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    # check-in streak bonuses: {"7": 50, "30": 300} extra points on those streak days
    streak_bonuses: Mapped[dict | None] = mapped_column(JSON)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a temporary rule of a campaign applies only to that campaign's treatment group
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RuleAward(Base):
    """Points a rule gave for one event; unique per rule family and event, so a
    replayed event never earns twice. Caps sum these rows."""

    __tablename__ = "earn_rule_award"
    __table_args__ = (
        UniqueConstraint("family_id", "event_key"),
        Index("ix_earn_rule_award_cap", "family_id", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("earn_rule.id"))
    family_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    event_key: Mapped[str] = mapped_column(String(120))
    points: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    # what multiplied the points, for the member's activity list ("× Gold 1.5")
    tier_id: Mapped[int | None] = mapped_column(Integer)
    tier_multiplier_bp: Mapped[int] = mapped_column(Integer, default=10_000)
    perk_multiplier_bp: Mapped[int] = mapped_column(Integer, default=10_000)  # challenge perks
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckIn(Base):
    """A member's daily check-in (one per local day); `streak` counts consecutive days."""

    __tablename__ = "checkin"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    streak: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
