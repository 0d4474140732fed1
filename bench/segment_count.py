"""Count a three-condition segment over N members (default 100,000) and answer
"which segments is this member in" for one member; prints the timings.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        python bench/segment_count.py --members 100000

The database is REBUILT (every table dropped) and seeded set-wise: members with
balances, consents and birthdays, and about three purchases each over a year,
some refunded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

CHUNK = 10_000
CONDITIONS = [
    {"field": "points", "op": "gte", "value": 500},
    {"field": "spend", "op": "gte", "value": 1_000_000, "days": 90},
    {"field": "birthday", "op": "jalali", "value": [1, 2, 3]},
]


def seed(engine, members: int, now: datetime) -> None:
    from webapp.models import Member, Purchase

    rng = random.Random(4)
    with engine.begin() as conn:
        for start in range(0, members, CHUNK):
            conn.execute(insert(Member), [{
                "email": f"seg{i}@example.com", "referral_code": f"SG{i:08d}", "session_token": f"seg-{i}",
                "points_balance": rng.randrange(0, 2000), "consent_email": rng.random() < 0.6,
                "birthday": date(1960, 1, 1) + timedelta(days=rng.randrange(0, 45 * 365)),
                "created_at": now - timedelta(days=rng.randrange(0, 1000)),
            } for i in range(start, min(start + CHUNK, members))])
        ids = [r[0] for r in conn.execute(text("SELECT id FROM member ORDER BY id"))]
        rows = []
        for mid in ids:
            for _ in range(rng.randrange(0, 7)):
                amount = rng.randrange(10_000, 2_000_000, 1000)
                rows.append({"member_id": mid, "amount": amount, "currency": "IRR",
                             "refunded_amount": amount if rng.random() < 0.05 else 0,
                             "occurred_at": now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60)),
                             "created_at": now})
            if len(rows) >= CHUNK:
                conn.execute(insert(Purchase), rows)
                rows = []
        if rows:
            conn.execute(insert(Purchase), rows)
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    from webapp.config import from_environment
    from webapp.migrate import rebuild
    from webapp.models import Segment
    from webapp.services.offers import segments

    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = from_environment()["DATABASE_URL"]
    rebuild(url)
    engine = create_engine(url)
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    started = time.perf_counter()
    seed(engine, args.members, now)
    print(f"seeded {args.members:,} members in {time.perf_counter() - started:.1f} s ({engine.dialect.name})")
    with Session(engine) as session:
        segment = Segment(name="bench", conditions=CONDITIONS)
        session.add(segment)
        session.commit()
        purchases = session.scalar(text("SELECT count(*) FROM purchase"))
        print(f"{purchases:,} purchases; conditions: {CONDITIONS}")
        seconds, total = timed(lambda: segments.count(session, segment.id, now), args.runs)
        print(f"segment count: {total:,} members, median {seconds * 1000:.0f} ms over {args.runs} runs")
        seconds, _ = timed(lambda: segments.member_ids_in(session, [segment.id], 4242, now), args.runs * 4)
        print(f"one member's segments: median {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
