"""What can go wrong with a reward or a coupon (views and the API map these)."""

from __future__ import annotations

from webapp.models import Coupon
from webapp.services.errors import Conflict, DomainError, ProblemsInvalid


class RewardInvalid(ProblemsInvalid):
    """The reward is not valid."""

    code = "reward_invalid"


class RewardUnavailable(DomainError):
    """This reward is not available now."""

    code = "reward_unavailable"
    status = 409


class RewardLocked(DomainError):
    """This reward is for a higher tier or another group of members."""

    code = "reward_locked"
    status = 403


class OutOfStock(DomainError):
    """This reward is out of stock."""

    code = "out_of_stock"
    status = 409


class RewardLimitReached(DomainError):
    """The member already has as many of this reward as one member may."""

    code = "reward_limit_reached"
    status = 409


class CouponNotUsable(Conflict):
    """The coupon cannot be used: it is used, cancelled or expired."""

    def __init__(self, coupon: Coupon):
        self.code = f"coupon_{coupon.status}"
        super().__init__(f"The coupon is {coupon.status}.", status=coupon.status,
                         code_of_coupon=coupon.code)


class CouponNotCancellable(Conflict):
    """Only an issued coupon can be cancelled."""

    code = "coupon_not_cancellable"
