"""Giving a member a prize of points, store credit or a catalog reward, once per
key, and taking it back when its cause is undone (never below zero).

Every prize of every game goes through here: contest results, raffle draws,
instant wins, challenges and the referral board. The keys are the callers'
own (and must never change for rows already written: a job retried after an
upgrade must find its first payment), so `give` takes the ledger key and, for
a reward, the coupon key when a game used a different one."""

from __future__ import annotations

from collections.abc import Sequence
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
    replayed: bool = False  # the key had already paid (points and credit)
    refusal: str | None = None  # the domain error's code when a reward was not issued


@dataclass(frozen=True)
class Award:
    """One prize of a bulk `give_many`."""

    member_id: int
    kind: str
    key: str
    amount: int = 0
    reward_id: int | None = None
    coupon_key: str | None = None  # the reward's key when it is not `key`


def _expires_at(session: Session, now: datetime, expiring: bool) -> datetime | None:
    days = load_earn_settings(session).points_expiry_days if expiring else 0
    return now + timedelta(days=days) if days else None


def give(session: Session, *, member_id: int, kind: str, amount: int = 0, reward_id: int | None = None,
         key: str, now: datetime, source: tuple[str, object], description: str,
         expiring: bool = True, coupon_key: str | None = None) -> Given:
    """Points expire like earned points unless `expiring` is False. A reward that
    cannot be issued is reported (`issued=False`), not raised: the cause stands.
    The coupon's key is `coupon_key` when given, else `key`."""
    about = {"key": key, "now": now, "source": source, "description": description[:300]}
    if kind == "points":
        posting = ledger.award_points(session, member_id, amount,
                                      expires_at=_expires_at(session, now, expiring), **about)
        return Given("points", amount, replayed=posting.replayed)
    if kind == "credit":
        posting = ledger.grant_credit(session, member_id, amount, **about)
        return Given("credit", amount, replayed=posting.replayed)
    if kind == "reward":
        try:
            with session.begin_nested():
                coupon = rewards.grant_reward(session, member_id=member_id, reward_id=reward_id,
                                              key=coupon_key or key, now=now)
        except DomainError as exc:
            return Given("reward", 0, issued=False, refusal=exc.code)
        return Given("reward", 0, coupon.id)
    raise ValueError(f"unknown prize kind {kind!r}")


def give_many(session: Session, awards: Sequence[Award], *, now: datetime, source: tuple[str, object],
              description: str, expiring: bool = True) -> list[Given]:
    """`give` for many winners, in their order. Points go in one set-based
    insert (keys already posted are skipped and come back `replayed`; the
    entries carry the source's type, not its id); credit and rewards one by one."""
    points = [(a.member_id, a.amount, a.key) for a in awards if a.kind == "points"]
    posted = {row.key for row in ledger.award_points_bulk(
        session, points, kind="earn", now=now, expires_at=_expires_at(session, now, expiring) if points else None,
        source_type=source[0], description=description[:300])} if points else set()
    given = []
    for award in awards:
        if award.kind == "points":
            given.append(Given("points", award.amount, replayed=award.key not in posted))
        else:
            given.append(give(session, member_id=award.member_id, kind=award.kind, amount=award.amount,
                              reward_id=award.reward_id, key=award.key, coupon_key=award.coupon_key, now=now,
                              source=source, description=description, expiring=expiring))
    return given


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
