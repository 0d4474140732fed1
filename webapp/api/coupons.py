"""Coupon verification and redemption at the till (/api/v1/coupons)."""
