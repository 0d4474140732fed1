"""Member pages for rewards."""

from __future__ import annotations


def dashboard_state(member, now):
    """What the rewards card on /me shows (None: no card)."""
    return None
