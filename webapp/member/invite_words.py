"""The referral rules in plain words, from either side: what the friend is
promised on the invite page and at /join, and the full terms on /invite."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.i18n import format_money, format_number, format_points, localized
from webapp.models import Reward
from webapp.services.referrals.rules import ReferralSettings


@dataclass(frozen=True)
class InviteTerms:
    friend_gift: str | None  # "200 points"; None: the friend gets nothing
    referrer_gift: str | None
    friend_offer: str | None  # the friend's offer as one sentence
    qualifying: str  # when a friend counts
    window: str  # how long an opened link counts
    cap: str  # the referrer's monthly cap


def reward_names(session: Session, rules: ReferralSettings) -> dict[int, str]:
    """Names of the catalog rewards the rules give (one query, only when any)."""
    ids = {getattr(rules, f"{side}_reward_id") for side in ("friend", "referrer")
           if getattr(rules, f"{side}_kind") == "reward"} - {None}
    if not ids:
        return {}
    column = localized(Reward, "name")
    return dict(session.execute(select(Reward.id, column).where(Reward.id.in_(ids))).tuples())


def gift_text(kind: str, amount: int, reward_name: str | None = None) -> str | None:
    if kind == "points":
        return _("%(points)s points", points=format_points(amount))
    if kind == "credit":
        return _("%(amount)s of store credit", amount=format_money(amount))
    if kind == "reward":
        return _("the reward “%(reward)s”", reward=reward_name) if reward_name else _("a reward from our catalog")
    return None


def friend_offer(rules: ReferralSettings, gift: str | None) -> str | None:
    if gift is None:
        return None
    if rules.qualify_on == "signup":
        return _("Join now and get %(gift)s as a welcome gift.", gift=gift)
    days = format_number(rules.qualify_days)
    if rules.min_purchase > 0:
        return _("Join now and get %(gift)s with your first purchase of %(amount)s or more within %(days)s days.",
                 gift=gift, amount=format_money(rules.min_purchase), days=days)
    return _("Join now and get %(gift)s with your first purchase within %(days)s days.", gift=gift, days=days)


def invite_terms(session: Session, rules: ReferralSettings) -> InviteTerms:
    names = reward_names(session, rules)
    friend = gift_text(rules.friend_kind, rules.friend_amount, names.get(rules.friend_reward_id))
    referrer = gift_text(rules.referrer_kind, rules.referrer_amount, names.get(rules.referrer_reward_id))
    days = format_number(rules.qualify_days)
    if rules.qualify_on == "signup":
        qualifying = _("A friend counts as soon as they join through your link.")
    elif rules.min_purchase > 0:
        qualifying = _("A friend counts when they make a first purchase of %(amount)s or more within %(days)s "
                       "days of joining.", amount=format_money(rules.min_purchase), days=days)
    else:
        qualifying = _("A friend counts when they make a first purchase within %(days)s days of joining.", days=days)
    window = _("Your link keeps working for a friend for %(days)s days after they open it; if they open "
               "someone else's link later, that one counts instead.", days=format_number(rules.attribution_days))
    if rules.monthly_cap:
        cap = _("You are rewarded for up to %(n)s friends a month; friends beyond that still get their gift.",
                n=format_number(rules.monthly_cap))
    else:
        cap = _("There is no monthly limit on your rewards.")
    return InviteTerms(friend_gift=friend, referrer_gift=referrer, friend_offer=friend_offer(rules, friend),
                       qualifying=qualifying, window=window, cap=cap)


def first_name(display_name: str | None) -> str:
    """Leaderboards show first names only."""
    parts = (display_name or "").split()
    return parts[0] if parts else _("A member")
