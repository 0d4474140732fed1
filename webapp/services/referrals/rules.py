"""The referral program's rules, edited by staff at /admin/referrals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import Reward
from webapp.services.errors import ProblemsInvalid
from webapp.services.members import audit
from webapp.services.play.prizes import PRIZE_KINDS
from webapp.services.settings import load_setting, store_setting

KEY = "referrals"
QUALIFY_ON = ("signup", "purchase")
REWARD_KINDS = ("none", *PRIZE_KINDS)


class ReferralSettingsInvalid(ProblemsInvalid):
    """The referral rules are not valid."""

    code = "referral_settings_invalid"


@dataclass(frozen=True)
class ReferralSettings:
    enabled: bool = True
    # the friend qualifies on joining, or on their first purchase of at least
    # `min_purchase` (smallest money unit) within `qualify_days` of joining
    qualify_on: str = "purchase"
    min_purchase: int = 0
    qualify_days: int = 30
    referrer_kind: str = "points"  # none | points | credit | reward
    referrer_amount: int = 500
    referrer_reward_id: int | None = None
    friend_kind: str = "points"
    friend_amount: int = 200
    friend_reward_id: int | None = None
    monthly_cap: int = 10  # referrer rewards per calendar month (club time); 0: no cap
    attribution_days: int = 30  # how long an opened link counts towards a sign-up
    # fraud checks: more sign-ups than this in an hour are held for review
    velocity_link_per_hour: int = 5
    velocity_ip_per_hour: int = 3
    hold_disposable: bool = True
    extra_disposable: str = ""  # more e-mail domains or patterns (`*.xyz`), one per line
    # the monthly leaderboard's prize for the top `board_places` referrers
    board_kind: str = "none"
    board_amount: int = 0
    board_reward_id: int | None = None
    board_places: int = 1

    def terms(self) -> dict:
        """What a friend joining now is promised (kept on the referral)."""
        names = ("qualify_on", "min_purchase", "qualify_days", "referrer_kind", "referrer_amount",
                 "referrer_reward_id", "friend_kind", "friend_amount", "friend_reward_id")
        return {name: getattr(self, name) for name in names}


def load_settings(session: Session) -> ReferralSettings:
    return load_setting(session, KEY, ReferralSettings)


def check(session: Session, s: ReferralSettings) -> dict[str, str]:
    problems: dict[str, str] = {}
    if s.qualify_on not in QUALIFY_ON:
        problems["qualify_on"] = "qualify_on_choice"
    if not 0 <= s.min_purchase <= 10**13:
        problems["min_purchase"] = "min_purchase_range"
    if not 1 <= s.qualify_days <= 365:
        problems["qualify_days"] = "days_1_365"
    for side in ("referrer", "friend", "board"):
        kind, amount, reward_id = (getattr(s, f"{side}_kind"), getattr(s, f"{side}_amount"),
                                   getattr(s, f"{side}_reward_id"))
        if kind not in REWARD_KINDS:
            problems[f"{side}_kind"] = f"{side}_kind_choice"
        elif kind in ("points", "credit") and not 1 <= amount <= 10**12:
            problems[f"{side}_amount"] = "amount_min_1"
        elif kind == "reward" and (reward_id is None or session.get(Reward, reward_id) is None):
            problems[f"{side}_reward_id"] = "reward_choice"
    if not 0 <= s.monthly_cap <= 10_000:
        problems["monthly_cap"] = "monthly_cap_range"
    if not 1 <= s.attribution_days <= 365:
        problems["attribution_days"] = "days_1_365"
    for name in ("velocity_link_per_hour", "velocity_ip_per_hour"):
        if not 1 <= getattr(s, name) <= 10_000:
            problems[name] = "range_1_10000"
    if not 1 <= s.board_places <= 100:
        problems["board_places"] = "range_1_100"
    if len(s.extra_disposable) > 10_000:
        problems["extra_disposable"] = "text_10000"
    return problems


def save_settings(session: Session, new: ReferralSettings, *, actor: audit.Actor, now: datetime) -> ReferralSettings:
    problems = check(session, new)
    if problems:
        raise ReferralSettingsInvalid(problems)
    # amounts of a kind not chosen are noise in the audit log
    for side in ("referrer", "friend", "board"):
        kind = getattr(new, f"{side}_kind")
        if kind not in ("points", "credit"):
            new = replace(new, **{f"{side}_amount": 0})
        if kind != "reward":
            new = replace(new, **{f"{side}_reward_id": None})
    store_setting(session, KEY, load_settings(session), new, actor=actor, now=now)
    return new


def as_dict(s: ReferralSettings) -> dict:
    return asdict(s)
