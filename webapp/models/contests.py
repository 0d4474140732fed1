"""Quiz and prediction contests: the contest, its quiz questions, one entry per
member (a quiz attempt or a prediction) and the answers of a quiz attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base
from webapp.models.types import BigIntPK, UTCDateTime, utcnow

CONTEST_STATUSES = ("draft", "published", "finalised")


class Contest(Base):
    """A quiz or a prediction. `settings` holds what only one kind needs (the
    prediction's question and rule); `prizes` is a list of
    {"from", "to", "kind" (points/credit/reward), "amount", "reward_id"}.
    `tie_unit_ms` is the resolution of the submission-time tie-break, fixed at
    publishing so the live Redis board and the final ranks use the same value."""

    __tablename__ = "contest"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="period_positive"),
        CheckConstraint("entry_cost >= 0 AND participation_points >= 0", name="amounts_not_negative"),
        Index("ix_contest_status_closes", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_fa: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_cost: Mapped[int] = mapped_column(BigInteger, default=0)
    participation_points: Mapped[int] = mapped_column(BigInteger, default=0)
    prizes: Mapped[list] = mapped_column(JSON, default=list)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[list | None] = mapped_column(JSON)  # prediction: the outcome staff entered
    result_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tie_unit_ms: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContestQuestion(Base):
    """A quiz question: `options` is a list of {"fa", "en"}; the correct option
    never leaves the server before the member has answered."""

    __tablename__ = "contest_question"
    __table_args__ = (
        CheckConstraint("time_limit_ms > 0", name="time_limit_positive"),
        UniqueConstraint("contest_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text_fa: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON)
    correct_option: Mapped[int] = mapped_column(Integer)
    time_limit_ms: Mapped[int] = mapped_column(Integer)
    image: Mapped[str | None] = mapped_column(String(200))  # file name under the instance uploads


class ContestEntry(Base):
    """One member in one contest: a quiz attempt (started when the entry fee is
    paid, finished when the last question is answered) or a prediction
    (`prediction` is the last edit before the deadline). `score`, `elapsed_ms`
    and `tie_time` are what the leaderboard orders by; `final_rank` is set once,
    when the contest is finalised."""

    __tablename__ = "contest_entry"
    __table_args__ = (
        UniqueConstraint("contest_id", "member_id"),
        Index("ix_contest_entry_rank", "contest_id", "final_rank"),
        Index("ix_contest_entry_member", "member_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prediction: Mapped[list | None] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(BigInteger, default=0)
    elapsed_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    tie_time: Mapped[int] = mapped_column(BigInteger, default=0)  # in the contest's tie_unit_ms since opening
    final_rank: Mapped[int | None] = mapped_column(Integer)
    prize: Mapped[dict | None] = mapped_column(JSON)  # what the member won, for the result page


class ContestAnswer(Base):
    """A question served to an attempt (`served_at`: the server's clock, kept on
    reload) and, once answered, the answer. Unique per attempt and question, and
    answered by a guarded UPDATE, so a replayed answer scores nothing."""

    __tablename__ = "contest_answer"
    __table_args__ = (UniqueConstraint("entry_id", "question_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contest_entry.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("contest_question.id", ondelete="CASCADE"))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    option: Mapped[int | None] = mapped_column(Integer)
    elapsed_ms: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(12))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
