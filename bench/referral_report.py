"""The staff referral report and the monthly board on PostgreSQL over
1,000,000 link opens and 200,000 referrals, through the app's own queries.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
        python bench/referral_report.py [--fresh]

Seeds set-wise (generate_series, no ORM rows) unless already there:
100,000 referring members, 200,000 friends (members too: a member is referred
once), 20 marketers, 1,000,000 opens over the last 120 days, 200,000 referrals
(about a third qualified, some held, reversed, rejected or expired), their
ledger payments, 1,000,000 other ledger entries as noise, and 100,000 share
clicks. Then times the report per day, week and month (funnel, top referrers
and marketers, channels, queue), the monthly board, the review queue page with
its IP/device matches, a page of the list, and streaming the whole list CSV.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from pg_bench import throwaway_app
from sqlalchemy import text
from sqlalchemy.orm import Session

REFERRERS = 100_000
FRIENDS = 200_000
OPENS = 1_000_000
NOISE = 1_000_000
SHARES = 100_000


def seeded(session: Session) -> bool:
    return session.scalar(text("SELECT count(*) FROM referral")) >= FRIENDS


def seed(session: Session, now: datetime) -> None:
    steps = (
        (f"{REFERRERS + FRIENDS:,} members", _members),
        (f"{OPENS:,} opens", _marketers_and_opens),
        (f"{FRIENDS:,} referrals", _referrals),
        (f"referral payments + {NOISE:,} other ledger entries", _ledger_entries),
        (f"{SHARES:,} share clicks", _share_clicks),
        ("vacuum analyze", _vacuum_analyze),
    )
    for what, insert in steps:
        step = time.perf_counter()
        insert(session, {"now": now})
        session.commit()
        print(f"  {what}: {time.perf_counter() - step:.1f}s")


def _members(session: Session, p: dict) -> None:
    """Referrers, then friends (members too: a member is referred once)."""
    session.execute(text("""
        INSERT INTO member (id, email, display_name, locale, referral_code, status, session_token,
                            points_balance, credit_balance, tier_metric, consent_email, consent_sms, created_at)
        SELECT g, 'refbench' || g || '@example.com', 'Bench ' || g, 'fa', 'RB' || upper(to_hex(g)), 'active',
               md5(g::text || random()::text), 0, 0, 0, false, false, :now - interval '200 days'
        FROM generate_series(1, :n) g"""), {**p, "n": REFERRERS + FRIENDS})
    session.execute(text("SELECT setval(pg_get_serial_sequence('member', 'id'), (SELECT max(id) FROM member))"))


def _marketers_and_opens(session: Session, p: dict) -> None:
    session.execute(text("""
        INSERT INTO marketer (id, name, code, session_token, status, commission_amount, commission_bp, balance,
                              email, created_by, created_at)
        SELECT g, 'Marketer ' || g, 'MK' || g, md5('mk' || g), 'active', 20000, 0, 0,
               'mk' || g || '@partner.example', 'bench', :now - interval '200 days'
        FROM generate_series(1, 20) g"""), p)
    session.execute(text("SELECT setval(pg_get_serial_sequence('marketer', 'id'), 20)"))
    # skewed: a few members share a lot, most a little; every 20th open is a marketer's
    session.execute(text("""
        INSERT INTO referral_open (link, referrer_id, marketer_id, campaign, visitor, created_at)
        SELECT CASE WHEN g % 20 = 0 THEN 'k' || (g / 20 % 20 + 1) || chr(58) || 'insta' ELSE 'm' || r END,
               CASE WHEN g % 20 = 0 THEN NULL ELSE r END,
               CASE WHEN g % 20 = 0 THEN g / 20 % 20 + 1 END,
               CASE WHEN g % 20 = 0 THEN 'insta' END,
               md5('v' || g), :now - random() * interval '120 days'
        FROM (SELECT g, 1 + floor(power(random(), 3) * :referrers)::int AS r
              FROM generate_series(1, :opens) g) s"""), {**p, "referrers": REFERRERS, "opens": OPENS})


def _referrals(session: Session, p: dict) -> None:
    """About a third qualified, some held, reversed, rejected or expired."""
    session.execute(text("""
        INSERT INTO referral (friend_id, referrer_id, marketer_id, campaign, status, flags, visitor, ip_hash, terms,
                              qualify_by, qualified_at, qualified_month, referrer_rewarded, reviewed_by, reviewed_at,
                              reversed_at, created_at)
        SELECT f, CASE WHEN f % 20 = 0 THEN NULL ELSE r END, CASE WHEN f % 20 = 0 THEN f % 20 + 1 END,
               CASE WHEN f % 20 = 0 THEN 'insta' END, st,
               CAST(CASE WHEN st IN ('held', 'rejected') THEN '["velocity_ip"]' ELSE '[]' END AS json),
               md5('d' || (f % 150000)), md5('i' || (f % 60000)), CAST('{}' AS json), c + interval '30 days',
               CASE WHEN st IN ('qualified', 'reversed') THEN q END,
               CASE WHEN st IN ('qualified', 'reversed') THEN to_char(q AT TIME ZONE 'Asia/Tehran', 'YYYY-MM') END,
               st IN ('qualified', 'reversed'),
               CASE WHEN st = 'rejected' THEN 'bench' END, CASE WHEN st = 'rejected' THEN c + interval '1 day' END,
               CASE WHEN st = 'reversed' THEN q + interval '3 days' END, c
        FROM (SELECT f, 1 + floor(power(random(), 3) * :referrers)::int AS r, c, c + random() * interval '20 days' AS q,
                     CASE WHEN x < 0.33 THEN 'qualified' WHEN x < 0.36 THEN 'held' WHEN x < 0.39 THEN 'reversed'
                          WHEN x < 0.42 THEN 'rejected' WHEN c < :now - interval '30 days' THEN 'expired'
                          ELSE 'pending' END AS st
              FROM (SELECT g + :referrers AS f, random() AS x, :now - random() * interval '120 days' AS c
                    FROM generate_series(1, :friends) g) a) s"""),
        {**p, "referrers": REFERRERS, "friends": FRIENDS})


def _ledger_entries(session: Session, p: dict) -> None:
    """The referral payments, and other entries as noise."""
    session.execute(text("""
        INSERT INTO ledger_entry (member_id, currency, amount, kind, source_type, source_id, idempotency_key,
                                  description, created_by, created_at)
        SELECT m, cur, amt, k, 'referral', id::text, 'referral:' || id || ':' || side, 'bench', 'system', q
        FROM (SELECT id, qualified_at AS q, friend_id AS m, 'points' AS cur, 200 AS amt, 'earn' AS k,
                     'friend' AS side FROM referral WHERE qualified_at IS NOT NULL
              UNION ALL
              SELECT id, qualified_at, referrer_id, 'credit', 50000, 'grant', 'referrer'
              FROM referral WHERE qualified_at IS NOT NULL AND referrer_id IS NOT NULL) s"""))
    session.execute(text("""
        INSERT INTO ledger_entry (member_id, currency, amount, kind, source_type, source_id, idempotency_key,
                                  description, created_by, created_at)
        SELECT 1 + g % :members, 'points', 1 + g % 300, 'earn', 'purchase', g::text, 'bench-noise:' || g, 'bench',
               'system', :now - random() * interval '120 days'
        FROM generate_series(1, :noise) g"""), {**p, "members": REFERRERS + FRIENDS, "noise": NOISE})


def _share_clicks(session: Session, p: dict) -> None:
    session.execute(text("""
        INSERT INTO referral_share (member_id, channel, created_at)
        SELECT 1 + g % :referrers, (ARRAY['native','copy','whatsapp','telegram','sms','email','qr'])[1 + g % 7],
               :now - random() * interval '120 days'
        FROM generate_series(1, :shares) g"""), {**p, "referrers": REFERRERS, "shares": SHARES})


def _vacuum_analyze(session: Session, p: dict) -> None:
    # what autovacuum would have done by the time anyone reads a report
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("member", "referral_open", "referral", "ledger_entry", "referral_share", "marketer"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))  # noqa: S608  (our own table names)


def timed(label: str, fn, repeat: int = 3):
    fn()  # warm the cache: the figure is the steady state
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<44} {best * 1000:8.1f} ms")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the schema first")
    args = parser.parse_args()
    app = throwaway_app(args.fresh)
    from webapp.admin import queries
    from webapp.extensions import db
    from webapp.services.referrals import report as referral_report
    from webapp.services.referrals import stats

    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        if not seeded(session):
            print("seeding…")
            started = time.perf_counter()
            seed(session, now)
            print(f"seeded in {time.perf_counter() - started:.1f}s")
        counts = session.execute(text(
            "SELECT (SELECT count(*) FROM member), (SELECT count(*) FROM referral_open), "
            "(SELECT count(*) FROM referral), (SELECT count(*) FROM ledger_entry)")).one()
        print("members {:,} · opens {:,} · referrals {:,} · ledger entries {:,}".format(*counts))
        tz = "Asia/Tehran"
        for period in referral_report.PERIODS:
            rep = timed(f"report per {period} ({referral_report.SPAN[period]} periods)",
                        lambda period=period: referral_report.report(session, period, now, tz))
            print(f"{'':<6}opens {rep.total.opens:,} · sign-ups {rep.total.signups:,} · "
                  f"qualified {rep.total.qualified:,} · queue {rep.queue:,}")
        bs = referral_report.buckets("month", now, tz)
        timed("  of which the funnel alone (month)", lambda: referral_report.funnel_by_period(session, bs))
        timed("  of which top referrers (12 months)",
              lambda: referral_report.top_referrers(session, bs[0].start, bs[-1].end))
        month = now.strftime("%Y-%m")
        board = timed(f"monthly board {month} (top 10)", lambda: stats.monthly_board(session, month))
        print(f"{'':<6}first: {board[0].qualified if board else 0} qualified")
        timed("review queue, first page + matches", lambda: referral_report.matches(session, queries.paginate(
            session, referral_report.held_queue(), 1, 25, scalars=False).items))
        timed("list, page 100 of 50 rows (status filter)", lambda: queries.paginate(
            session, referral_report.listing("qualified"), 100, 50, scalars=False))

        def whole_csv():
            query = referral_report.listing().execution_options(yield_per=1000)
            n = sum(1 for r in session.execute(query) if referral_report.list_csv_row(r))
            session.rollback()
            return n

        rows = timed("list CSV, every referral streamed", whole_csv, repeat=1)
        print(f"{'':<6}{rows:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
