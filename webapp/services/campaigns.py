"""Campaigns: bonus points and targeted offers to a segment, with a hold-out
control group. (Contract stub: the campaigns work replaces the bodies.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Offer:
    campaign_id: int
    cost_points: int  # the campaign's price of the reward for this member


def member_offers(session: Session, member_id: int, now: datetime) -> dict[int, Offer]:
    """reward_id -> the running offer campaign's price, for a member in its
    treatment group (control members and everyone else: nothing)."""
    return {}


def in_treatment(session: Session, campaign_id: int, member_id: int) -> bool:
    """True when the member is in the campaign's audience and not held out."""
    return False
