"""Member pages for checkin."""

from __future__ import annotations


def dashboard_state(member, now):
    """What the checkin card on /me shows (None: no card)."""
    return None
