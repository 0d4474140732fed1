"""Instant-win games (spin the wheel, scratch card): the game, its prizes and
every play. The prize quantity and the game's points budget only move through
guarded UPDATEs, so neither can be overspent however many play at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

INSTANT_WIN_STYLES = ("wheel", "scratch")
INSTANT_WIN_STATUSES = ("draft", "active", "ended")
INSTANT_WIN_PRIZE_KINDS = ("points", "credit", "reward")
INSTANT_WIN_OUTCOMES = ("won", "no_win", "sold_out")


class InstantWinGame(Base):
    __tablename__ = "instant_win_game"
    __table_args__ = (
        CheckConstraint("cost_points >= 0", name="cost_not_negative"),
        CheckConstraint("daily_plays > 0", name="daily_plays_positive"),
        CheckConstraint("closes_at > opens_at", name="period_positive"),
        CheckConstraint("points_budget IS NULL OR points_given <= points_budget", name="budget_kept"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_fa: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    style: Mapped[str] = mapped_column(String(12), default="wheel")
    cost_points: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: free to play
    daily_plays: Mapped[int] = mapped_column(Integer, default=1)  # per member per club-local day
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))
    points_budget: Mapped[int | None] = mapped_column(BigInteger)  # None: only the prize quantities limit
    points_given: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstantWinPrize(Base):
    """One slice of the wheel. `odds_ppm` is its chance per 1,000,000 plays;
    `remaining` starts at `quantity` and never goes below zero."""

    __tablename__ = "instant_win_prize"
    __table_args__ = (
        CheckConstraint("odds_ppm > 0 AND odds_ppm <= 1000000", name="odds_in_range"),
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_in_range"),
        CheckConstraint("value >= 0", name="value_not_negative"),
        Index("ix_instant_win_prize_game", "game_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("instant_win_game.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[int] = mapped_column(BigInteger, default=0)  # points, or credit in money units
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("reward.id"))
    odds_ppm: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)


class InstantWinPlay(Base):
    """One play. `request_key` (the member's one-time form token) is unique, so a
    double submit plays once; `prize_id` is the prize the roll landed on (also
    when it was sold out); ledger keys and the coupon derive from `id`."""

    __tablename__ = "instant_win_play"
    __table_args__ = (
        Index("ix_instant_win_play_member_day", "member_id", "game_id", "local_day"),
        Index("ix_instant_win_play_game", "game_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("instant_win_game.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    local_day: Mapped[str] = mapped_column(String(10))  # the club-local day, YYYY-MM-DD (daily cap)
    roll: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
    prize_id: Mapped[int | None] = mapped_column(ForeignKey("instant_win_prize.id"))
    points_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("coupon.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
