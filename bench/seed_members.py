"""Seed a club for benchmarks: N members and M ledger entries with matching lots
and balances (doctor-clean), written set-wise (COPY on PostgreSQL, executemany
elsewhere), never row by row through the ORM.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        python bench/seed_members.py --members 10000 --entries 500000

Every member can sign in as bench<n>@example.com with the password printed at
the end. Runs once: a database that already has bench members is left alone.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

BENCH_PASSWORD = "bench-password-1"
FIRST_EMAIL = "bench1@example.com"
CHUNK = 5_000


def database_url() -> str:
    from webapp.config import from_environment

    return from_environment()["DATABASE_URL"]


def plan_member(rng: random.Random, member_id: int, n_entries: int, now: datetime, first_entry: int,
                first_lot: int):
    """The entries and lots of one member, with lots consumed FIFO by expiry exactly as
    the ledger does it. Returns (entries, lots, points_balance, credit_balance)."""
    entries, lots = [], []
    points = credit = 0
    when = now - timedelta(days=365)
    step = timedelta(days=360) / max(n_entries, 1)
    for k in range(n_entries):
        when += step
        entry_id = first_entry + k
        roll = rng.random()
        if roll < 0.06:  # store credit granted now and then, and spent
            amount = rng.randrange(10_000, 200_000, 1_000)
            if credit >= amount and rng.random() < 0.5:
                amount = -amount
            credit += amount
            entries.append((entry_id, member_id, "credit", amount, "grant" if amount > 0 else "spend",
                            f"bench:{entry_id}", when))
            continue
        if roll < 0.25 and points > 0:  # a spend, FIFO by expiry, never-expiring lots last
            amount = rng.randint(1, min(points, 400))
            left = amount
            for lot in sorted(lots, key=lambda x: (x[5] is None, x[5] or when, x[0])):
                take = min(lot[4], left)
                lot[4] -= take
                left -= take
                if not left:
                    break
            points -= amount
            entries.append((entry_id, member_id, "points", -amount, "spend", f"bench:{entry_id}", when))
            continue
        amount = rng.randint(5, 300)
        expires = None if rng.random() < 0.1 else when + timedelta(days=rng.randint(400, 730))
        points += amount
        entries.append((entry_id, member_id, "points", amount, "earn", f"bench:{entry_id}", when))
        lots.append([first_lot + len(lots), member_id, entry_id, amount, amount, expires, when])
    return entries, lots, points, credit


def copy_rows(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    from webapp.db import Base

    tbl = Base.metadata.tables[table]
    # NOT NULL columns we do not set, with a constant default in the model (COPY skips those)
    extra = {c.name: c.default.arg for c in tbl.columns
             if c.name not in columns and not c.nullable and c.server_default is None
             and c.default is not None and c.default.is_scalar}
    columns = [*columns, *extra]
    rows = [(*r, *extra.values()) for r in rows] if extra else rows
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(tbl), [dict(zip(columns, r, strict=True)) for r in rows[start:start + CHUNK]])


def seed(url: str, members: int, entries: int, seed_value: int = 7, quiet: bool = False) -> bool:
    """Seed unless already seeded. Returns True if rows were written."""
    from webapp import models  # noqa: F401  (tables on the metadata)
    from webapp.db import Base, make_engine
    from webapp.migrate import upgrade

    say = (lambda *a: None) if quiet else print
    upgrade(url)
    engine = make_engine(url)
    member_t = Base.metadata.tables["member"]
    try:
        with engine.begin() as conn:
            if conn.scalar(select(member_t.c.id).where(member_t.c.email == FIRST_EMAIL)):
                count = conn.scalar(select(func.count()).where(member_t.c.email.like("bench%@example.com")))
                say(f"already seeded ({count:,} bench members); drop the database to start again")
                return False
            started = time.perf_counter()
            member_rows, entry_rows, lot_rows = plan_club(conn, random.Random(seed_value), members, entries)
            say(f"planned {len(member_rows):,} members, {len(entry_rows):,} entries, "
                f"{len(lot_rows):,} lots in {time.perf_counter() - started:.1f}s")
            write_club(conn, member_rows, entry_rows, lot_rows)
            say(f"written in {time.perf_counter() - started:.1f}s")
        return True
    finally:
        engine.dispose()


def plan_club(conn, rng: random.Random, members: int, entries: int):
    """(member rows, entry rows, lot rows), ids after those the database has."""
    from webapp.services.members.passwords import hash_password

    now = datetime.now(UTC)
    password_hash = hash_password(BENCH_PASSWORD)  # one hash for all: argon2 is slow on purpose
    next_member = (conn.scalar(text("SELECT max(id) FROM member")) or 0) + 1
    next_entry = (conn.scalar(text("SELECT max(id) FROM ledger_entry")) or 0) + 1
    next_lot = (conn.scalar(text("SELECT max(id) FROM point_lot")) or 0) + 1
    member_rows, entry_rows, lot_rows = [], [], []
    per_member, extra = divmod(entries, members)
    for n in range(members):
        member_id = next_member + n
        count = per_member + (1 if n < extra else 0)
        e, lots, points, credit = plan_member(rng, member_id, count, now, next_entry, next_lot)
        next_entry += len(e)
        next_lot += len(lots)
        entry_rows += e
        lot_rows += [tuple(lot) for lot in lots]
        member_rows.append({
            "id": member_id, "email": f"bench{n + 1}@example.com", "password_hash": password_hash,
            "display_name": f"Bench {n + 1}", "locale": "fa" if n % 3 else "en",
            "referral_code": f"BN{member_id:X}", "status": "active",
            "session_token": secrets.token_urlsafe(32), "points_balance": points,
            "credit_balance": credit, "created_at": now - timedelta(days=366),
            "consent_email": False, "consent_sms": False,
        })
    return member_rows, entry_rows, lot_rows


def write_club(conn, member_rows: list[dict], entry_rows: list[tuple], lot_rows: list[tuple]) -> None:
    from webapp.db import Base

    member_t = Base.metadata.tables["member"]
    for start in range(0, len(member_rows), CHUNK):
        conn.execute(insert(member_t), member_rows[start:start + CHUNK])
    copy_rows(conn, "ledger_entry", ["id", "member_id", "currency", "amount", "kind",
                                     "idempotency_key", "created_at"],
              entry_rows)
    copy_rows(conn, "point_lot", ["id", "member_id", "entry_id", "amount", "remaining",
                                  "expires_at", "earned_at"], lot_rows)
    if conn.dialect.name == "postgresql":
        # explicit ids were written: move the sequences past them
        for table in ("member", "ledger_entry", "point_lot"):
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE member; ANALYZE ledger_entry; ANALYZE point_lot"))


def check(url: str) -> int:
    """The doctor's verdict on the seeded club (0 = clean)."""
    from sqlalchemy.orm import Session

    from webapp.db import make_engine
    from webapp.services.ledger import find_mismatches

    engine = make_engine(url)
    with Session(engine) as session:
        mismatches = find_mismatches(session)
    engine.dispose()
    return len(mismatches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same club)")
    args = parser.parse_args()
    if args.members < 1 or args.entries < 0:
        parser.error("need at least one member and a non-negative number of entries")
    url = os.environ.get("DATABASE_URL") or database_url()
    print(f"seeding {url.split('@')[-1]}")
    seed(url, args.members, args.entries, args.seed)
    started = time.perf_counter()
    bad = check(url)
    print(f"doctor: {bad} mismatch(es) ({time.perf_counter() - started:.1f}s)")
    print(f"sign in as {FIRST_EMAIL} / {BENCH_PASSWORD}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
