"""Member pages for challenges."""

from __future__ import annotations


def dashboard_state(member, now):
    """What the challenges card on /me shows (None: no card)."""
    return None
