"""The demo club's raffle: one open raffle with a couple of prizes, made and
published through the same services staff use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Raffle
from webapp.services.members import audit
from webapp.services.play import raffles


def load_demo_raffles(session: Session, *, now: datetime) -> None:
    """Once: does nothing when the club already has a raffle."""
    if session.scalar(select(func.count()).select_from(Raffle)):
        return
    raffle = raffles.create_raffle(session, raffles.RaffleSpec(
        name_fa="قرعه‌کشی شب یلدا", name_en="Yalda night raffle",
        description_fa="با هر ۵۰ امتیاز یک بلیت بخرید؛ قرعه‌کشی منصفانه و قابل بررسی است.",
        description_en="Buy a ticket for 50 points; the draw is provably fair.",
        ticket_price=50, max_tickets_per_member=20, alternates=2,
        closes_at=now + timedelta(days=14), draw_at=now + timedelta(days=14, hours=2),
        prizes=(
            raffles.PrizeSpec(name_fa="۵٬۰۰۰ امتیاز", name_en="5,000 points", quantity=1, kind="points", amount=5_000),
            raffles.PrizeSpec(name_fa="سبد هدیهٔ یلدا", name_en="A Yalda gift basket", quantity=2, kind="physical"),
        )), actor=audit.CLI, now=now)
    raffles.publish_raffle(session, raffle.id, actor=audit.CLI, now=now)
