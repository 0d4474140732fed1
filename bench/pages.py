"""Member pages under gunicorn -w 2 beside the floor page, on one bench club.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench_10k \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
        python bench/pages.py [--members 10000] [--entries 500000] [--seconds 10] [--landing]

Seeds the club once per database (bench/seed_club.py: members, ledger and the
configuration the pages read), then serves, with the same gunicorn settings on
the same database, the app and the floor page (bench/floor_app.py: one indexed
query, a Jinja page padded to the size of the app's /me). Signs in as
bench1@example.com through the real /login form and runs
`wrk -t2 -c20 -d<seconds>s --latency` against the floor, /me, /rewards,
/me/tier, /invite, /contests, /raffles and the floor again (the mean of the two
floor runs is the floor). Statements per page are counted in this process: the
app on the same database, a test client holding the same session cookie, each
page requested twice and the second request counted (transaction control left
out), with those fired while a template rendered shown apart. `--landing` adds
the invite landing page /r/<code> (a new device each request, then one device).
Exits non-zero if any response was not 2xx/3xx. Needs wrk.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys

import seed_club
import seed_members
from serve import (
    BENCH_DIR,
    SIZES,
    Bench,
    Counted,
    Row,
    count_statements,
    print_rows,
    request,
    require_postgres,
    sign_in,
    wrk,
)

PAGES = ("/me", "/rewards", "/me/tier", "/invite", "/contests", "/raffles")
FLOOR = "/floor"


def measure(url: str, members: int, entries: int, seconds: int, redis_url: str | None,
            landing: bool = False) -> list[Row]:
    """Seed (once), serve, count and load; the rows for the table, the floor first."""
    seed_club.seed(url, members, entries)
    with Bench(url, redis_url) as bench:
        app_port = bench.serve("webapp:create_app()", "app")
        cookie = sign_in(app_port, seed_members.FIRST_EMAIL, seed_members.BENCH_PASSWORD)
        me_bytes = page_sizes(app_port, cookie)
        floor_port = bench.serve("floor_app:create_floor_app()", "floor", chdir=BENCH_DIR,
                                 BENCH_FLOOR_BYTES=str(me_bytes))
        response, body = request(floor_port, "GET", FLOOR, cookie=cookie)
        if response.status != 200:
            raise SystemExit(f"the floor page answered {response.status}")
        print(f"page bytes: /me {me_bytes:,}, floor {len(body):,}")
        counts = count_pages(bench, cookie)
        header = f"Cookie: {cookie}"
        print(f"wrk -t2 -c20 -d{seconds}s each …", flush=True)
        first = wrk(f"http://127.0.0.1:{floor_port}{FLOOR}", seconds, header)
        loads = {path: wrk(f"http://127.0.0.1:{app_port}{path}", seconds, header) for path in PAGES}
        if landing:
            loads.update(landing_loads(app_port, cookie, seconds))
        last = wrk(f"http://127.0.0.1:{floor_port}{FLOOR}", seconds, header)
    floor_rps, floor_p99 = (first.rps + last.rps) / 2, (first.p99 + last.p99) / 2
    rows = [Row(f"floor ({when})", load.rps, load.p50, load.p99, "1", floor_rps, floor_p99, load.non_2xx)
            for when, load in (("first", first), ("last", last))]
    for path, load in loads.items():
        counted = counts.get(path)
        rows.append(Row(path, load.rps, load.p50, load.p99, _statements(counted), floor_rps, floor_p99,
                        load.non_2xx))
    return rows


def _statements(counted: Counted | None) -> str:
    if counted is None:
        return "-"
    return f"{counted.statements} ({counted.in_templates} tpl)"


def page_sizes(port: int, cookie: str) -> int:
    """Every page answers 200 for the signed-in member; the size of /me."""
    sizes = {}
    for path in PAGES:
        response, body = request(port, "GET", path, cookie=cookie)
        if response.status != 200:
            raise SystemExit(f"GET {path} with the session answered {response.status}, not 200")
        sizes[path] = len(body)
    return sizes["/me"]


def count_pages(bench: Bench, cookie: str) -> dict[str, Counted]:
    """Statements of the second request of each page, in this process."""
    app = bench.app()
    name, _, value = cookie.partition("=")
    client = app.test_client()
    client.set_cookie(name, value)
    counts = {}
    for path in PAGES:
        client.get(path)
        with count_statements(app) as counted:
            status = client.get(path).status_code
        if status != 200:
            raise SystemExit(f"in process, GET {path} answered {status}")
        counts[path] = counted
    app.extensions["vafa_db"].engine.dispose()
    return counts


def landing_loads(port: int, cookie: str, seconds: int) -> dict:
    """The invite landing page: a new device on every request (each records an
    open), then one device over and over."""
    _, invite = request(port, "GET", "/invite", cookie=cookie)
    code = re.search(r"/r/([A-Za-z0-9]+)", invite.decode()).group(1)
    url = f"http://127.0.0.1:{port}/r/{code}"
    return {"/r/<code> new": wrk(url, seconds, f"User-Agent: {seed_club.PHONE}"),
            "/r/<code> again": wrk(url, seconds, f"User-Agent: {seed_club.PHONE}",
                                   f"Cookie: vafa_dev={secrets.token_urlsafe(32)}")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=SIZES[0].members)
    parser.add_argument("--entries", type=int, default=SIZES[0].entries)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--landing", action="store_true", help="also the invite landing page /r/<code>")
    args = parser.parse_args()
    url = require_postgres(os.environ.get("DATABASE_URL"))
    rows = measure(url, args.members, args.entries, args.seconds, os.environ.get("REDIS_URL"), args.landing)
    print(f"\ngunicorn -w 2, wrk -t2 -c20 -d{args.seconds}s, {os.cpu_count()} CPUs, "
          f"{args.members:,} members / {args.entries:,} entries; floor = mean of its two runs")
    print_rows(rows)
    return 1 if any(r.non_2xx for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
