"""The demo club's instant-win game: one open wheel with three prizes, made
through the same service staff use."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import InstantWinGame, Reward
from webapp.services.members import audit
from webapp.services.play import instant_win
from webapp.services.play.instant_win import GameSpec, PrizeSpec


def load_demo_instant_win(session: Session, *, now: datetime) -> None:
    """Once: does nothing when the club already has an instant-win game."""
    if session.scalar(select(func.count()).select_from(InstantWinGame)):
        return
    coffee = session.scalar(select(Reward.id).where(Reward.status == "active", Reward.kind != "partner_voucher")
                            .order_by(Reward.cost_points, Reward.id).limit(1))
    third = (PrizeSpec(name_fa="جایزه از فهرست جوایز", name_en="A reward from the catalog", kind="reward",
                       reward_id=coffee, odds_ppm=20_000, quantity=10) if coffee else
             PrizeSpec(name_fa="۲۰٬۰۰۰ ریال اعتبار", name_en="20,000 rials of credit", kind="credit",
                       value=20_000, odds_ppm=20_000, quantity=10))
    game = instant_win.create_game(session, GameSpec(
        name_fa="گردونهٔ شانس", name_en="Lucky wheel",
        description_fa="هر روز سه بار بچرخانید؛ هر بار ۱۰ امتیاز.",
        description_en="Spin three times a day, 10 points a spin.",
        style="wheel", cost_points=10, daily_plays=3,
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=60), points_budget=50_000,
        prizes=(
            PrizeSpec(name_fa="۲۰ امتیاز", name_en="20 points", kind="points", value=20, odds_ppm=250_000,
                      quantity=1_000),
            PrizeSpec(name_fa="۱۰۰ امتیاز", name_en="100 points", kind="points", value=100, odds_ppm=50_000,
                      quantity=100),
            third,
        )), actor=audit.CLI, now=now)
    instant_win.publish_game(session, game.id, actor=audit.CLI, now=now)
