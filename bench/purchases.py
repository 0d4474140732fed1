"""The till's purchase call beside its floor, a plain psycopg loop, on one bench club.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench_10k \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
        python bench/purchases.py [--members 10000] [--entries 500000] [--seconds 10] \\
                                  [--base-url URL] [--config rich|base|both]

Two configurations, each measured the same way:
- rich: the club of bench/seed_club.py on DATABASE_URL (a tier program, two
  earn rules that match every purchase, an open challenge bench1 has joined);
- base: only the base earn rate, on a database of its own (`--base-url`, by
  default `<database>_base` on the same server, created and seeded with 1,000
  members / 20,000 entries once).
For each: statements per purchase counted in this process (the app on the same
database, test client, a warm-up then 10 serial purchases for bench1; transaction
control left out, savepoints shown apart) and Redis round trips per purchase
(redis-py's connection hooked in this process, same 10 purchases); then
`POST /api/v1/transactions` under gunicorn -w 2 from 4 client threads on
keep-alive connections for --seconds (each its own Idempotency-Key), and the
floor: 4 threads, each its own psycopg 3 connection, each transaction inserting
one ledger entry (store credit, with an idempotency key) and updating the
member's balance, then commit. Prints postings/s, p50, p99 and the ratio. Then
`vafa doctor` must be clean and every accepted purchase recorded exactly once,
else the exit status is 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import seed_club
import seed_members
from serve import (
    ROOT,
    SIZES,
    Bench,
    Row,
    count_redis_round_trips,
    count_statements,
    ensure_database,
    percentile,
    print_rows,
    psycopg_conninfo,
    require_postgres,
    sibling_url,
)

CLIENTS = 4
COUNTED = 10  # serial purchases the statement and Redis counts average over
BASE_SIZE = (1_000, 20_000)


class Run:
    """One configuration's purchases: what it posted, and what the database kept."""

    def __init__(self, url: str, label: str) -> None:
        self.url, self.label = url, label
        self.tag = f"bench-{secrets.token_hex(3)}"  # this run's purchases among earlier runs'
        self.accepted = 0
        self.failed = 0


def measure(url: str, label: str, seconds: int, redis_url: str | None) -> tuple[list[Row], bool]:
    """Count, load and check one configuration; its rows and whether the checks held."""
    run = Run(url, label)
    with Bench(url, redis_url, VAFA_API_RATE_LIMIT="1000000 per minute") as bench:
        app = bench.app(API_RATE_LIMIT="1000000 per minute")
        api_key, member_ids = prepare(app)
        statements, savepoints, redis_trips = count_purchase(app, api_key, member_ids[0], run)
        app.extensions["vafa_db"].engine.dispose()
        port = bench.serve("webapp:create_app()", "app")
        api = post_purchases(port, api_key, member_ids, seconds, run)
        floor = psycopg_loop(url, member_ids, seconds, run)
        ok = check(bench, run)
    counts = f"{statements:g} (+{savepoints:g} sp, {redis_trips:g} redis)"
    rows = [Row(f"psycopg loop [{label}]", *floor, "2", floor[0], floor[2]),
            Row(f"POST /api/v1/transactions [{label}]", *api, counts, floor[0], floor[2], run.failed)]
    return rows, ok


def prepare(app) -> tuple[str, list[int]]:
    """An API key, and the ids of the first 1,000 bench members (bench1 first)."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Member, utcnow
    from webapp.services.members import audit
    from webapp.services.members.staff import create_api_key

    with app.app_context():
        _key, plain = create_api_key(db.session, name="bench till", actor=audit.CLI, now=utcnow())
        ids = list(db.session.scalars(select(Member.id).where(Member.email.like("bench%@example.com"))
                                      .order_by(Member.id).limit(1000)))
        db.session.commit()
    return plain, ids


def purchase_body(member_id: int, ref: str, rng: random.Random) -> str:
    return json.dumps({
        "member_id": member_id, "amount": rng.randrange(10_000, 5_000_000),
        "currency": os.environ.get("VAFA_CURRENCY") or "IRR", "occurred_at": datetime.now(UTC).isoformat(),
        "external_ref": ref, "items": [{"sku": "SKU-1", "category": "coffee", "qty": 1, "price": 10_000}],
    })


def headers(api_key: str) -> dict:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4())}


def count_purchase(app, api_key: str, member_id: int, run: Run) -> tuple[float, float, float]:
    """Statements, savepoints and Redis round trips per purchase (mean of COUNTED
    serial purchases after a warm-up), in this process."""
    client = app.test_client()
    rng = random.Random(1)

    def post(n: int) -> None:
        response = client.post("/api/v1/transactions", data=purchase_body(member_id, f"{run.tag}-c{n}", rng),
                               headers=headers(api_key))
        if response.status_code != 201:
            raise SystemExit(f"in process, a purchase answered {response.status_code}: {response.get_data(True)}")
        run.accepted += 1

    post(0)
    with count_statements(app) as counted, count_redis_round_trips() as trips:
        for n in range(1, COUNTED + 1):
            post(n)
    return counted.statements / COUNTED, counted.savepoints / COUNTED, trips[0] / COUNTED


def _threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def post_purchases(port: int, api_key: str, member_ids: list[int], seconds: int, run: Run):
    """(postings/s, p50 ms, p99 ms) from CLIENTS keep-alive connections."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k = 0
        while time.monotonic() < deadline:
            k += 1
            body = purchase_body(rng.choice(member_ids), f"{run.tag}-{n}-{k}", rng)
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/transactions", body=body, headers=headers(api_key))
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if status == 201:
                    run.accepted += 1
                else:
                    run.failed += 1
        conn.close()

    started = time.perf_counter()
    accepted_before = run.accepted
    _threads(client, CLIENTS)
    elapsed = time.perf_counter() - started
    return (run.accepted - accepted_before) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)


def psycopg_loop(url: str, member_ids: list[int], seconds: int, run: Run):
    """(postings/s, p50 ms, p99 ms): per transaction one ledger entry inserted and
    the member's balance updated, CLIENTS connections in CLIENTS threads."""
    import psycopg

    latencies: list[float] = []
    lock = threading.Lock()
    conninfo = psycopg_conninfo(url)
    deadline = time.monotonic() + seconds

    def loop(n: int) -> None:
        rng = random.Random(100 + n)
        mine = []
        with psycopg.connect(conninfo) as conn:
            k = 0
            while time.monotonic() < deadline:
                k += 1
                member_id, amount = rng.choice(member_ids), rng.randrange(1, 1_000)
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO ledger_entry (member_id, currency, amount, kind, idempotency_key, created_by,"
                        " created_at) VALUES (%s, 'credit', %s, 'grant', %s, 'bench', now())",
                        (member_id, amount, f"{run.tag}-floor-{n}-{k}"))
                    conn.execute("UPDATE member SET credit_balance = credit_balance + %s WHERE id = %s",
                                 (amount, member_id))
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    _threads(loop, CLIENTS)
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)


def check(bench: Bench, run: Run) -> bool:
    """`vafa doctor` is clean and every accepted purchase was recorded exactly once."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Purchase

    doctor = subprocess.run([sys.executable, "-m", "webapp", "doctor"], cwd=ROOT, env=bench.env,
                            capture_output=True, text=True, timeout=600)
    app = bench.app()
    with app.app_context():
        recorded = db.session.scalar(select(func.count()).select_from(Purchase)
                                     .where(Purchase.external_ref.like(f"{run.tag}-%")))
    app.extensions["vafa_db"].engine.dispose()
    print(f"[{run.label}] doctor: {(doctor.stdout + doctor.stderr).strip()}")
    print(f"[{run.label}] purchases recorded {recorded}, accepted {run.accepted}, failed {run.failed}")
    return doctor.returncode == 0 and recorded == run.accepted and not run.failed


def base_url(url: str) -> str:
    """The base-rate database beside `url`: created and seeded (members only) once."""
    from sqlalchemy.engine import make_url

    from webapp.db import normalise_url

    return sibling_url(url, f"{make_url(normalise_url(url)).database}_base")


def measure_both(url: str, members: int, entries: int, seconds: int, redis_url: str | None,
                 config: str = "both", base: str | None = None) -> tuple[list[Row], bool]:
    rows, ok = [], True
    if config in ("base", "both"):
        base = base or base_url(url)
        ensure_database(base)
        seed_members.seed(base, *BASE_SIZE, quiet=True)
        got, good = measure(base, "base rate", seconds, redis_url)
        rows, ok = rows + got, ok and good
    if config in ("rich", "both"):
        seed_club.seed(url, members, entries)
        got, good = measure(url, "tiers+2 rules+challenge", seconds, redis_url)
        rows, ok = rows + got, ok and good
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=SIZES[0].members)
    parser.add_argument("--entries", type=int, default=SIZES[0].entries)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--config", choices=("rich", "base", "both"), default="both")
    parser.add_argument("--base-url", help="the base-rate database (default: <database>_base, same server)")
    args = parser.parse_args()
    url = require_postgres(os.environ.get("DATABASE_URL"))
    rows, ok = measure_both(url, args.members, args.entries, args.seconds, os.environ.get("REDIS_URL"),
                            args.config, args.base_url)
    print(f"\ngunicorn -w 2, {CLIENTS} client connections, {args.seconds}s each, {os.cpu_count()} CPUs; "
          f"statements per purchase (+savepoints, Redis round trips), mean of {COUNTED}")
    print_rows(rows, unit="posts/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
