"""The rewards catalog and coupons. (Contract stub: the rewards work replaces the bodies.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def grant_reward(
    session: Session, *, member_id: int, reward_id: int, key: str, now: datetime,
    created_by: str = "system",
):
    """Give the member a coupon for the reward without charging points (challenge
    completion, staff gift). Obeys stock; `key` makes it happen once. Returns the Coupon."""
    raise NotImplementedError
