"""Win-back: a marketing message to members who stopped buying, once per lapse.

The owner sets after how many days without a purchase a member counts as
lapsed and what the message offers: nothing, a reward to point to, or bonus
points given with it. One grouped read over purchases finds the lapsed members
inside the database; the message key carries the member's last purchase id, so
a lapse is told once however often the job runs, and a member who buys again
and lapses again is told again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from webapp.models import LedgerEntry, Member, Purchase, Reward
from webapp.services import ledger
from webapp.services.errors import ProblemsInvalid
from webapp.services.members import audit
from webapp.services.messages.outbox import notify_from
from webapp.services.settings import load_earn_settings, load_setting, store_setting

SETTING = "win_back"
OFFERS = ("none", "reward", "points")
MAX_DAYS = 3650
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class WinBackSettings:
    """`days` without a purchase (0: win-back off); `offer` one of OFFERS with
    its `reward_id` or `points`."""

    days: int = 0
    offer: str = "none"
    reward_id: int | None = None
    points: int = 0


class WinBackInvalid(ProblemsInvalid):
    """These win-back settings cannot be used."""


def load_win_back_settings(session: Session) -> WinBackSettings:
    return load_setting(session, SETTING, WinBackSettings)


def check_settings(session: Session, settings: WinBackSettings) -> dict[str, str]:
    """Field → problem code; empty when the settings can be saved."""
    problems = {}
    if not 0 <= settings.days <= MAX_DAYS:
        problems["days"] = "days_range"
    if settings.offer not in OFFERS:
        problems["offer"] = "offer_unknown"
    elif settings.offer == "reward":
        reward = session.get(Reward, settings.reward_id) if settings.reward_id else None
        if reward is None or reward.status == "archived":
            problems["reward_id"] = "reward_unavailable"
    elif settings.offer == "points" and not 1 <= settings.points <= MAX_POINTS:
        problems["points"] = "points_range"
    return problems


def save_win_back_settings(session: Session, settings: WinBackSettings, *, actor: audit.Actor,
                           now: datetime) -> WinBackSettings:
    problems = check_settings(session, settings)
    if problems:
        raise WinBackInvalid(problems)
    # only what the chosen offer uses is kept
    settings = WinBackSettings(settings.days, settings.offer,
                               settings.reward_id if settings.offer == "reward" else None,
                               settings.points if settings.offer == "points" else 0)
    store_setting(session, SETTING, load_win_back_settings(session), settings, actor=actor, now=now)
    return settings


def lapsed_members(days: int, now: datetime):
    """SELECT (member_id, key) of active members whose last purchase is older than `days`."""
    last = (
        select(Purchase.member_id.label("member_id"), func.max(Purchase.id).label("last_id"))
        .group_by(Purchase.member_id)
        .having(func.max(Purchase.occurred_at) < now - timedelta(days=days))
        .subquery()
    )
    key = literal("win_back:") + cast(last.c.member_id, String) + literal(":") + cast(last.c.last_id, String)
    return (select(last.c.member_id, key.label("key"))
            .join(Member, Member.id == last.c.member_id).where(Member.status == "active"))


def send_win_back(session: Session, *, now: datetime) -> int:
    """Write the win-back messages due now (and the bonus points they carry);
    returns how many members were newly told. Never commits."""
    settings = load_win_back_settings(session)
    if settings.days <= 0:
        return 0
    rows = lapsed_members(settings.days, now)
    params = {"days": settings.days, "reward_id": None, "reward_fa": "", "reward_en": "", "points": 0,
              "path": "/rewards"}
    if settings.offer == "reward" and settings.reward_id:
        reward = session.get(Reward, settings.reward_id)
        if reward is not None and reward.status != "archived":
            params.update(reward_id=reward.id, reward_fa=reward.name_fa, reward_en=reward.name_en,
                          path=f"/rewards/{reward.id}")
    elif settings.offer == "points" and settings.points > 0:
        params.update(points=settings.points, path="/me/activity")
        days = load_earn_settings(session).points_expiry_days
        source = rows.subquery()
        # a lapse already paid (perhaps before the owner changed the amount) is not paid again
        unpaid = ~exists().where(LedgerEntry.idempotency_key == source.c.key)
        ledger.award_points_from(
            session, select(source.c.member_id, literal(settings.points), source.c.key).where(unpaid),
            kind="earn", now=now, expires_at=now + timedelta(days=days) if days else None,
            source_type="win_back", description="Win-back bonus")
    return notify_from(session, rows, kind="win_back", params=params, now=now)
