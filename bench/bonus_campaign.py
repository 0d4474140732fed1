"""A bonus campaign to 100,000 members on PostgreSQL, against a raw INSERT … SELECT.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/bonus_campaign.py [--members 100000] [--control 10] [--fresh]

Seeds N active members set-wise (generate_series) unless the database already
has them, then runs the real job (`webapp.jobs.campaigns.run_campaign`: the
audience frozen with INSERT … SELECT, the control group drawn in Python from
the seed, bonus points awarded 1,000 members per committed chunk with ledger
entries, lots, balances, campaign rows and inbox messages) and times it. In the
same run it times the raw SQL floor: one INSERT … SELECT of the same ledger rows
into a temporary copy of `ledger_entry` (same indexes), and the same rows with
lots and balances under other keys in the real tables, rolled back. Then runs
the job a second time (nothing to do) and asks the ledger doctor.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

from pg_bench import throwaway_app
from sqlalchemy import text
from sqlalchemy.orm import Session

BONUS = 50


def seed(session: Session, members: int, now: datetime) -> int:
    have = session.scalar(text("SELECT count(*) FROM member WHERE email LIKE 'campbench%'"))
    if have >= members:
        return 0
    first = (session.scalar(text("SELECT coalesce(max(id), 0) FROM member")) or 0) + 1
    session.execute(text("""
        INSERT INTO member (id, email, display_name, locale, referral_code, status, session_token,
                            points_balance, credit_balance, tier_metric, consent_email, consent_sms, created_at)
        SELECT g, 'campbench' || g || '@example.com', 'Bench ' || g, CASE WHEN g % 3 = 0 THEN 'en' ELSE 'fa' END,
               'cb' || to_hex(g), 'active', md5(g::text || random()::text), 0, 0, 0, false, false,
               :now - interval '100 days'
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g
    """), {"first": first, "last": first + members - have - 1, "now": now})
    session.execute(text("SELECT setval(pg_get_serial_sequence('member', 'id'), (SELECT max(id) FROM member))"))
    session.commit()
    session.execute(text("ANALYZE member"))
    session.commit()
    return members - have


def raw_copy(session: Session, campaign_id: int, now: datetime) -> tuple[float, int]:
    """The same ledger rows into a temporary copy of the table: the floor for one statement."""
    session.execute(text("CREATE TEMP TABLE ledger_copy (LIKE ledger_entry INCLUDING ALL)"))
    started = time.perf_counter()
    n = session.execute(text("""
        INSERT INTO ledger_copy (member_id, currency, amount, kind, source_type, idempotency_key,
                                 description, created_by, created_at)
        SELECT member_id, 'points', :bonus, 'earn', 'campaign', 'raw:' || :id || ':member:' || member_id,
               'raw copy', 'system', :now
        FROM campaign_member WHERE campaign_id = :id AND NOT in_control
    """), {"bonus": BONUS, "id": campaign_id, "now": now}).rowcount
    seconds = time.perf_counter() - started
    session.execute(text("DROP TABLE ledger_copy"))
    session.commit()
    return seconds, n


def raw_full(session: Session, campaign_id: int, now: datetime) -> float:
    """Entries, lots and balances set-wise in the real tables under other keys, rolled back."""
    params = {"bonus": BONUS, "id": campaign_id, "now": now}
    started = time.perf_counter()
    session.execute(text("""
        WITH e AS (
            INSERT INTO ledger_entry (member_id, currency, amount, kind, source_type, idempotency_key,
                                      description, created_by, created_at)
            SELECT member_id, 'points', :bonus, 'earn', 'campaign', 'raw:' || :id || ':member:' || member_id,
                   'raw', 'system', :now
            FROM campaign_member WHERE campaign_id = :id AND NOT in_control
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, member_id, amount)
        INSERT INTO point_lot (member_id, entry_id, amount, remaining, earned_at)
        SELECT member_id, id, amount, amount, :now FROM e
    """), params)
    session.execute(text("""
        UPDATE member SET points_balance = points_balance + :bonus
        FROM campaign_member cm WHERE cm.campaign_id = :id AND NOT cm.in_control AND member.id = cm.member_id
    """), params)
    seconds = time.perf_counter() - started
    session.rollback()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--control", type=int, default=10, help="control group percent")
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the schema first")
    args = parser.parse_args()
    app = throwaway_app(args.fresh)
    from webapp.extensions import db
    from webapp.jobs.campaigns import run_campaign
    from webapp.services.ledger import find_mismatches
    from webapp.services.members import audit
    from webapp.services.offers import campaigns

    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        started = time.perf_counter()
        added = seed(session, args.members, now)
        print(f"seeded {added:,} members in {time.perf_counter() - started:.1f}s")
        campaign = campaigns.create_campaign(session, campaigns.CampaignDraft(
            name=f"Bench {now:%H:%M:%S}", kind="bonus", segment_id=None, starts_at=now,
            ends_at=now + timedelta(days=7), bonus_points=BONUS, message_fa="هدیه", message_en="A gift",
            control_percent=args.control), actor=audit.CLI, now=now)
        campaigns.schedule_campaign(session, campaign.id, actor=audit.CLI, now=now)
        session.commit()
        cid = campaign.id

        started = time.perf_counter()
        result = run_campaign(cid)
        job_s = time.perf_counter() - started
        print(f"campaign job: {job_s:6.2f}s  audience {result['members_total']:,} treatment members, "
              f"{result['points_awarded']:,} points, status {result['status']}")

        ids = list(range(args.members))
        started = time.perf_counter()
        campaigns.draw_control_group("0" * 32, ids, args.control)
        print(f"  of which the control draw in Python (HMAC per member, sort): "
              f"{time.perf_counter() - started:6.2f}s")

        copy_s, n = raw_copy(session, cid, now)
        print(f"raw INSERT … SELECT of the {n:,} ledger rows into a temp copy: {copy_s:6.2f}s")
        full_s = raw_full(session, cid, now)
        print(f"raw entries + lots + balances (set-wise, rolled back): {full_s:6.2f}s")
        print(f"the job takes {job_s / copy_s:.1f}× the one-statement floor, {job_s / full_s:.1f}× the raw three")

        started = time.perf_counter()
        again = run_campaign(cid)
        print(f"second run: {time.perf_counter() - started:6.2f}s  points {again['points_awarded']:,} (unchanged)")
        bad = len(find_mismatches(session))
        print(f"doctor: {bad} mismatch(es)")
    return 1 if bad or again["points_awarded"] != result["points_awarded"] else 0


if __name__ == "__main__":
    sys.exit(main())
