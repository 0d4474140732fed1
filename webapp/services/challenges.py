"""Challenges members opt into. (Contract stub: the challenges work replaces the bodies.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Perk:
    multiplier_bp: int  # 15000 = ×1.5
    name_en: str


def earn_perks(session: Session, member_id: int, now: datetime) -> list[Perk]:
    """The up-front earn multipliers of the member's running challenges."""
    return []


def on_purchase(session: Session, purchase, *, now: datetime) -> None:
    """Move the member's running challenges on; reward the ones just completed (once)."""
