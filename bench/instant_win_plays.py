"""Instant-win plays at once against one small prize: plays per second, and
proof that the quantity and the points budget held (exits non-zero if not).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        python bench/instant_win_plays.py --members 400 --threads 20

The database is REBUILT (every table dropped). Every member plays once, each
from a thread with its own session and connection, as web workers do; a points
prize with quantity 50 and odds 50%, and an overall points budget of 2,000
(40 wins of 50 points) that runs out first.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

PRIZE_QUANTITY, BUDGET, PRIZE_POINTS, COST = 50, 2_000, 50, 10


def main() -> int:
    from webapp import create_app
    from webapp.config import from_environment
    from webapp.migrate import rebuild

    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--threads", type=int, default=20)
    args = parser.parse_args()
    config = from_environment()
    rebuild(config["DATABASE_URL"])
    app = create_app({"DATABASE_URL": config["DATABASE_URL"], "SECRET_KEY": "bench"})
    now = datetime.now(UTC)
    game_id, member_ids, dialect = _seed(app, args.members, now)
    started = time.perf_counter()
    latencies = _play_all(app, game_id, member_ids, args.threads, now)
    seconds = time.perf_counter() - started
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"{len(member_ids):,} plays from {args.threads} threads ({dialect}): {seconds:.2f} s, "
          f"{len(member_ids) / seconds:.0f} plays/s, median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms")
    return 0 if _budget_held(app, game_id) else 1


def _seed(app, members: int, now: datetime) -> tuple[int, list[int], str]:
    """Members with 100 points each and one published game."""
    from games.instant_win import ODDS_SCALE
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.services import ledger
    from webapp.services.members import audit
    from webapp.services.play import instant_win
    from webapp.services.play.instant_win import GameSpec, PrizeSpec

    with app.app_context():
        db.session.execute(insert(Member), [{"email": f"spin{i}@example.com", "referral_code": f"SP{i:08d}",
                                             "session_token": f"spin-{i}", "created_at": now}
                                            for i in range(members)])
        for member_id in db.session.scalars(select(Member.id)):
            ledger.award_points(db.session, member_id, 100, key=f"bench:{member_id}", now=now)
        game = instant_win.create_game(db.session, GameSpec(
            name_fa="گردونه", name_en="Wheel", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1),
            cost_points=COST, daily_plays=1, points_budget=BUDGET,
            prizes=(PrizeSpec(name_fa="۵۰", name_en="50", kind="points", value=PRIZE_POINTS,
                              odds_ppm=ODDS_SCALE // 2, quantity=PRIZE_QUANTITY),)), actor=audit.CLI, now=now)
        instant_win.publish_game(db.session, game.id, actor=audit.CLI, now=now)
        db.session.commit()
        return game.id, list(db.session.scalars(select(Member.id))), db.engine.dialect.name


def _play_all(app, game_id: int, member_ids: list[int], threads: int, now: datetime) -> list[float]:
    """Every member plays once, each from a thread with its own session; sorted latencies."""
    from webapp.extensions import db
    from webapp.services.play import instant_win

    def one(member_id: int) -> float:
        with app.app_context():
            started = time.perf_counter()
            instant_win.play(db.session, member_id=member_id, game_id=game_id, request_key=f"bench-{member_id}",
                             now=now, tz="Asia/Tehran")
            db.session.commit()
            db.session.remove()
            return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sorted(pool.map(one, member_ids))


def _budget_held(app, game_id: int) -> bool:
    """The prize quantity and the points budget held, and every balance matches its ledger."""
    from webapp.extensions import db
    from webapp.models import InstantWinGame, InstantWinPlay, InstantWinPrize
    from webapp.services import ledger

    with app.app_context():
        wins = db.session.scalar(select(func.count()).select_from(InstantWinPlay)
                                 .where(InstantWinPlay.outcome == "won"))
        given = db.session.get(InstantWinGame, game_id).points_given
        remaining = db.session.scalar(select(InstantWinPrize.remaining).where(InstantWinPrize.game_id == game_id))
        mismatches = ledger.find_mismatches(db.session)
    print(f"wins {wins}, points given {given} of a {BUDGET} budget, prize left {remaining} of {PRIZE_QUANTITY}, "
          f"ledger mismatches {len(mismatches)}")
    return given <= BUDGET and wins * PRIZE_POINTS == given and wins + remaining == PRIZE_QUANTITY and not mismatches


if __name__ == "__main__":
    sys.exit(main())
