"""Issue 14's table: member pages and the purchase call beside their floors, at
10,000 members / 500,000 entries and at 100,000 members / 5,000,000 entries.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
        python bench/summary.py [--seconds 10] [--url-10k URL] [--url-100k URL]

The two databases default to vafa_bench_10k and vafa_bench_100k on DATABASE_URL's
server (created if missing, seeded once: see bench/seed_club.py). Runs
bench/pages.py and bench/purchases.py at each size (the base-rate purchase
configuration once, on vafa_bench_10k_base), then prints one table (size,
req/s, p50, p99, statements, ratio to the floor) and, for each line, how its
ratio moved from the small club to the large one (the issue allows a fall of at
most a quarter). Exits non-zero if any response failed or a purchase check did
not hold. Takes about 2 × (8 + 4) × --seconds plus start-up; the first run also
seeds (a few minutes for the large club).
"""

from __future__ import annotations

import argparse
import os
import sys

import pages
import purchases
from serve import SIZES, Row, ensure_database, print_table, require_postgres, sibling_url


def run_size(url: str, size, seconds: int, redis_url: str | None, base: bool) -> tuple[list[Row], bool]:
    ensure_database(url)
    print(f"== {size.label}: {size.members:,} members / {size.entries:,} entries ({url.rsplit('/', 1)[-1]})",
          flush=True)
    rows = pages.measure(url, size.members, size.entries, seconds, redis_url)
    bought, ok = purchases.measure_both(url, size.members, size.entries, seconds, redis_url,
                                        config="both" if base else "rich")
    return rows + bought, ok and not any(r.non_2xx for r in rows)


def print_summary(results: dict[str, list[Row]], seconds: int) -> None:
    print(f"\nIssue 14: gunicorn -w 2; pages wrk -t2 -c20 -d{seconds}s; purchases {purchases.CLIENTS} "
          f"connections {seconds}s; {os.cpu_count()} CPUs. Page floor = mean of its first and last run; "
          "statements in process (templates' share as 'tpl'; purchases: +savepoints, Redis round trips)")
    table = [[r.name, label, f"{r.rps:.0f}", f"{r.p50:.1f}", f"{r.p99:.1f}", r.statements, f"{r.ratio:.0%}",
              f"{r.p99_ratio:.1f}×"] for label, rows in results.items() for r in rows]
    print_table(["", "size", "req/s", "p50 ms", "p99 ms", "statements", "÷ floor", "p99 ÷ floor"], table)
    small, large = (results.get(s.label, []) for s in SIZES)
    before = {r.name: r for r in small}
    moves = [[r.name, f"{before[r.name].ratio:.0%}", f"{r.ratio:.0%}", f"{r.ratio / before[r.name].ratio:.2f}",
              "ok" if r.ratio >= 0.75 * before[r.name].ratio else "FALLS > 1/4"]
             for r in large if r.name in before and before[r.name].ratio and not r.name.startswith(("floor", "psycopg"))]
    if moves:
        print(f"\nratio to the floor, {SIZES[0].label} → {SIZES[1].label}")
        print_table(["", SIZES[0].label, SIZES[1].label, "change", "≥ 0.75"], moves)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--url-10k", help="the 10,000-member database (default: vafa_bench_10k beside DATABASE_URL)")
    parser.add_argument("--url-100k", help="the 100,000-member database (default: vafa_bench_100k)")
    parser.add_argument("--only", choices=[s.label for s in SIZES], help="one size only")
    args = parser.parse_args()
    given = {"10k": args.url_10k, "100k": args.url_100k}
    if not all(given.values()):
        server = require_postgres(os.environ.get("DATABASE_URL"))
    redis_url = os.environ.get("REDIS_URL")
    results, ok = {}, True
    for n, size in enumerate(SIZES):
        if args.only and size.label != args.only:
            continue
        url = require_postgres(given[size.label] or sibling_url(server, f"vafa_bench_{size.label}"))
        results[size.label], good = run_size(url, size, args.seconds, redis_url, base=n == 0)
        ok = ok and good
    print_summary(results, args.seconds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
