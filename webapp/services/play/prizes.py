"""Giving a member a prize of points, store credit or a catalog reward, once per
key, and taking it back when its cause is undone (never below zero)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Coupon
from webapp.services import ledger
from webapp.services.errors import DomainError
from webapp.services.members import audit
from webapp.services.offers import rewards
from webapp.services.settings import load_earn_settings

PRIZE_KINDS = ("points", "credit", "reward")


@dataclass(frozen=True)
class Given:
    kind: str
    amount: int  # points or money given (0 for a reward)
    coupon_id: int | None = None
    issued: bool = True  # False: the reward was out of stock or withdrawn


def give(session: Session, *, member_id: int, kind: str, amount: int = 0, reward_id: int | None = None,
         key: str, now: datetime, source: tuple[str, object], description: str,
         expiring: bool = True) -> Given:
    """Points expire like earned points unless `expiring` is False. A reward that
    cannot be issued is reported (`issued=False`), not raised: the cause stands."""
    about = {"key": key, "now": now, "source": source, "description": description[:300]}
    if kind == "points":
        days = load_earn_settings(session).points_expiry_days if expiring else 0
        ledger.award_points(session, member_id, amount, expires_at=now + timedelta(days=days) if days else None,
                            **about)
        return Given("points", amount)
    if kind == "credit":
        ledger.grant_credit(session, member_id, amount, **about)
        return Given("credit", amount)
    if kind == "reward":
        try:
            with session.begin_nested():
                coupon = rewards.grant_reward(session, member_id=member_id, reward_id=reward_id, key=key, now=now)
        except DomainError:
            return Given("reward", 0, issued=False)
        return Given("reward", 0, coupon.id)
    raise ValueError(f"unknown prize kind {kind!r}")


def take_back(session: Session, *, member_id: int, key: str, now: datetime, source: tuple[str, object],
              description: str, actor: audit.Actor = audit.SYSTEM) -> int:
    """Undo what `give` posted under `key`: debit up to the balance (the rest is
    lost, never a negative balance), or cancel the coupon if it is still unused.
    Returns the shortfall (what could not be taken back). Idempotent."""
    entry = ledger.entry_by_key(session, key)
    if entry is not None:
        _, shortfall = ledger.debit_up_to(
            session, member_id=member_id, currency=entry.currency, amount=entry.amount, kind="reversal",
            key=f"{key}:reversal", now=now, source=source, description=description[:300],
            created_by=actor.label,
        )
        return shortfall
    coupon = session.scalar(select(Coupon).where(Coupon.request_key == f"grant:{key}"))
    if coupon is None or coupon.status == "cancelled":
        return 0
    if coupon.status != "issued":
        return 1  # already used at the till
    rewards.cancel_coupon(session, coupon.id, actor=actor, now=now, reason=description[:300])
    return 0
