"""The nightly tier evaluation for 100,000 members on PostgreSQL.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
        python bench/tier_evaluation.py [--members 100000] [--purchases 5] [--fresh]

Seeds the club set-wise in SQL (generate_series; a few seconds): N members, M
purchases each over the last 400 days with their earn entries and lots (balances
doctor-clean), the default tier program (points earned, rolling 365 days), and a
random level already held by every member — a fifth of them with their grace
already over — so the first night has plenty to do: upgrades, new at-risk
members, downgrades, history rows and inbox messages. Then times `evaluate_all`
twice (one transaction each, committed): the first run with many changes, the
second with none. Prints the figures. `--fresh` drops and re-creates the schema.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session


def prepare(url: str, fresh: bool) -> None:
    from webapp.migrate import rebuild, upgrade

    rebuild(url) if fresh else upgrade(url)


def seed(session: Session, members: int, per_member: int, now: datetime) -> None:
    from webapp.services import tiers
    from webapp.services.members import audit

    first = (session.scalar(text("SELECT coalesce(max(id), 0) FROM member")) or 0) + 1
    last = first + members - 1
    params = {"first": first, "last": last, "now": now, "per": per_member}
    session.execute(text("""
        INSERT INTO member (id, email, display_name, referral_code, status, session_token,
                            points_balance, credit_balance, tier_metric, consent_email, consent_sms,
                            created_at)
        SELECT g, 'tierbench' || g || '@example.com', 'Bench ' || g, 'tb' || to_hex(g), 'active',
               md5(g::text || random()::text), 0, 0, 0, false, false, :now - interval '400 days'
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g
    """), params)
    # purchases spread over 400 days; amounts skewed so every level has members
    session.execute(text("""
        INSERT INTO purchase (member_id, amount, currency, occurred_at, fee, points_earned,
                              refunded_amount, points_reversed, created_at)
        SELECT m, amount, 'IRR', at, amount / 1000, amount / 10000, 0, 0, at
        FROM (
            SELECT m, (10000 * (1 + floor(power(random(), 3) * 3000)))::bigint AS amount,
                   :now - (random() * interval '400 days') AS at
            FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) m, generate_series(1, CAST(:per AS integer)) k
        ) p
    """), params)
    session.execute(text("""
        INSERT INTO ledger_entry (member_id, currency, amount, kind, source_type, source_id,
                                  idempotency_key, created_by, created_at)
        SELECT member_id, 'points', points_earned, 'earn', 'purchase', id::text,
               'purchase:' || id || ':' || 'earn', 'system', occurred_at
        FROM purchase WHERE member_id BETWEEN :first AND :last AND points_earned > 0
    """), params)
    session.execute(text("""
        INSERT INTO point_lot (member_id, entry_id, amount, remaining, earned_at, expires_at)
        SELECT member_id, id, amount, amount, created_at, NULL
        FROM ledger_entry WHERE member_id BETWEEN :first AND :last AND kind = 'earn'
    """), params)
    session.execute(text("""
        UPDATE member SET points_balance = s.points
        FROM (SELECT member_id, sum(amount) AS points FROM ledger_entry
              WHERE member_id BETWEEN :first AND :last GROUP BY member_id) s
        WHERE member.id = s.member_id
    """), params)
    if tiers.load_program(session) is None:
        tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=now)
    program = tiers.load_program(session)
    ids = [lv.id for lv in program.levels]
    # a random level held by everyone; a fifth past their grace already
    session.execute(text("""
        UPDATE member SET tier_id = (CAST(:ids AS integer[]))[1 + floor(random() * CAST(:n AS integer))::int],
               tier_since = :now - interval '200 days',
               downgrade_due_at = CASE WHEN random() < 0.2 THEN :now - interval '1 day' END
        WHERE id BETWEEN :first AND :last
    """), {**params, "ids": ids, "n": len(ids)})
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def timed_night(session: Session, now: datetime):
    from webapp.services import tiers

    started = time.perf_counter()
    result = tiers.evaluate_all(session, now=now)
    session.commit()
    return result, time.perf_counter() - started


def count(session: Session, table: str) -> int:
    return session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608  (fixed names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=5, help="purchases per member")
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the schema first")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        print("error: set DATABASE_URL to a PostgreSQL database you can throw away", file=sys.stderr)
        return 2
    if args.members < 1 or args.purchases < 0:
        parser.error("need at least one member and a non-negative number of purchases")

    from webapp import models  # noqa: F401  (tables on the metadata)
    from webapp.db import make_engine
    from webapp.services.ledger import find_mismatches

    prepare(url, args.fresh)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        started = time.perf_counter()
        seed(session, args.members, args.purchases, now)
        print(f"seeded {args.members:,} members, {count(session, 'purchase'):,} purchases, "
              f"{count(session, 'ledger_entry'):,} ledger entries in {time.perf_counter() - started:.1f}s")
        history0, inbox0 = count(session, "tier_history"), count(session, "inbox_message")

        first, first_s = timed_night(session, now)
        history1, inbox1 = count(session, "tier_history"), count(session, "inbox_message")
        print(f"night 1: {first_s:6.2f}s  members {first.members:,}  metric changed "
              f"{first.metric_changed:,}  upgraded {first.upgraded:,}  at risk {first.at_risk:,}  "
              f"downgraded {first.downgraded:,}  → {history1 - history0:,} history rows, "
              f"{inbox1 - inbox0:,} inbox messages")

        second, second_s = timed_night(session, now)
        history2, inbox2 = count(session, "tier_history"), count(session, "inbox_message")
        print(f"night 2: {second_s:6.2f}s  members {second.members:,}  metric changed "
              f"{second.metric_changed:,}  upgraded {second.upgraded:,}  at risk {second.at_risk:,}  "
              f"downgraded {second.downgraded:,}  → {history2 - history1:,} history rows, "
              f"{inbox2 - inbox1:,} inbox messages")
        levels = session.execute(text(
            "SELECT t.code, count(*) FROM member m JOIN tier t ON t.id = m.tier_id "
            "GROUP BY t.code, t.rank ORDER BY t.rank")).all()
        print("members per level: " + ", ".join(f"{c} {n:,}" for c, n in levels))
        bad = len(find_mismatches(session))
        print(f"doctor: {bad} mismatch(es)")
    engine.dispose()
    changed = (second.upgraded, second.at_risk, second.downgraded, history2 - history1, inbox2 - inbox1)
    return 1 if bad or any(changed) else 0


if __name__ == "__main__":
    sys.exit(main())
