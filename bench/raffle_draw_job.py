"""The raffle draw job's three steps on PostgreSQL over 100,000 entries holding
1,000,000 tickets, through the app's own code.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
        python bench/raffle_draw_job.py [--entries 100000] [--fresh]

Seeds the members set-wise (generate_series) unless they exist, publishes a
raffle through the service (its close already passed), inserts its entries
set-wise (half with 5 tickets, half with 15: 10 a member on average), then
times the job's steps as the worker runs them, each committed:
freeze (read the entries, build the canonical file, store it and its digest),
draw (`games.raffle` on the stored file, winners and alternates stored, seed
revealed) and award (prizes through the ledger, inbox messages). Then runs the
whole job again (nothing to do), re-runs the draw as a verifier would from the
stored file, and asks the ledger doctor.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

from pg_bench import throwaway_app
from sqlalchemy import text
from sqlalchemy.orm import Session


def seed_members(session: Session, members: int, now: datetime) -> int:
    have = session.scalar(text("SELECT count(*) FROM member WHERE email LIKE 'rafbench%'"))
    if have >= members:
        return 0
    first = (session.scalar(text("SELECT coalesce(max(id), 0) FROM member")) or 0) + 1
    session.execute(text("""
        INSERT INTO member (id, email, display_name, locale, referral_code, status, session_token,
                            points_balance, credit_balance, tier_metric, consent_email, consent_sms, created_at)
        SELECT g, 'rafbench' || g || '@example.com', 'Bench ' || g, 'fa', 'rb' || to_hex(g), 'active',
               md5(g::text || random()::text), 0, 0, 0, false, false, :now - interval '100 days'
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g
    """), {"first": first, "last": first + members - have - 1, "now": now})
    session.execute(text("SELECT setval(pg_get_serial_sequence('member', 'id'), (SELECT max(id) FROM member))"))
    session.commit()
    return members - have


def seed_entries(session: Session, raffle_id: int, members: int, now: datetime) -> tuple[int, int]:
    """One entry per bench member, random 12-hex codes, 5 or 15 tickets."""
    session.execute(text("""
        INSERT INTO raffle_entry (raffle_id, member_id, code, tickets, bought, from_coupons, from_perks, created_at)
        SELECT :rid, m.id, substr(md5(m.id::text || ':' || :rid || ':' || random()::text), 1, 12),
               t.n, t.n, 0, 0, :now
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM member WHERE email LIKE 'rafbench%'
              ORDER BY id LIMIT :members) m
        CROSS JOIN LATERAL (SELECT CASE WHEN m.r % 2 = 0 THEN 5 ELSE 15 END AS n) t
    """), {"rid": raffle_id, "now": now, "members": members})
    # the raffle's counters move with its entries (vafa doctor checks them)
    session.execute(text("""
        UPDATE raffle SET
          entries_count = (SELECT count(*) FROM raffle_entry WHERE raffle_id = :rid AND tickets > 0),
          tickets_total = (SELECT coalesce(sum(tickets), 0) FROM raffle_entry WHERE raffle_id = :rid)
        WHERE id = :rid
    """), {"rid": raffle_id})
    session.commit()
    session.execute(text("ANALYZE raffle_entry"))
    session.commit()
    return tuple(session.execute(text(
        "SELECT count(*), sum(tickets) FROM raffle_entry WHERE raffle_id = :rid"), {"rid": raffle_id}).one())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the schema first")
    args = parser.parse_args()
    app = throwaway_app(args.fresh)
    from webapp.extensions import db

    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        started = time.perf_counter()
        added = seed_members(session, args.entries, now)
        print(f"seeded {added:,} members in {time.perf_counter() - started:.1f}s")
        rid = published_raffle(session, now)
        started = time.perf_counter()
        entries, tickets = seed_entries(session, rid, args.entries, now)
        print(f"seeded {entries:,} entries holding {tickets:,} tickets set-wise in {time.perf_counter() - started:.1f}s")
        time_the_steps(session, rid, now + timedelta(minutes=1))
        return 0 if run_again_and_verify(session, rid) else 1


def published_raffle(session: Session, now: datetime) -> int:
    """A raffle through the service, closing and drawing a second from now."""
    from webapp.services.members import audit
    from webapp.services.play import raffles

    raffle = raffles.create_raffle(session, raffles.RaffleSpec(
        name_fa="بنچ", name_en=f"Bench {now:%H:%M:%S}", ticket_price=1, max_tickets_per_member=100,
        closes_at=now + timedelta(seconds=1), draw_at=now + timedelta(seconds=1), alternates=5,
        prizes=(raffles.PrizeSpec("امتیاز", "Points", 1, "points", 10_000),
                raffles.PrizeSpec("اعتبار", "Credit", 2, "credit", 50_000),
                raffles.PrizeSpec("دوچرخه", "A bicycle", 2, "physical"))), actor=audit.CLI, now=now)
    raffles.publish_raffle(session, raffle.id, actor=audit.CLI, now=now)
    session.commit()
    return raffle.id


def time_the_steps(session: Session, rid: int, later: datetime) -> None:
    """freeze, draw and award as the worker runs them, each committed."""
    from webapp.models import Raffle
    from webapp.services.play import raffles

    timings = {}
    for name, step in (("freeze", raffles.freeze_entries), ("draw", raffles.draw_winners),
                       ("award", raffles.award_prizes)):
        started = time.perf_counter()
        assert step(session, rid, later), f"{name} did nothing"
        session.commit()
        timings[name] = time.perf_counter() - started
    raffle = session.get(Raffle, rid)
    print(f"freeze: {timings['freeze']:6.2f}s  entry file {len(raffle.entries_file):,} bytes, "
          f"digest {raffle.entries_digest[:16]}…")
    print(f"draw:   {timings['draw']:6.2f}s  {raffle.tickets_total:,} tickets, "
          f"{len(raffles.winners(session, rid))} winners + alternates stored, seed revealed")
    print(f"award:  {timings['award']:6.2f}s  5 prizes (points, credit, physical), inbox messages")
    print(f"total:  {sum(timings.values()):6.2f}s")


def run_again_and_verify(session: Session, rid: int) -> bool:
    """The whole job again does nothing; the verifier agrees; the ledger doctor is happy."""
    import games.raffle as engine
    from webapp.jobs.raffles import draw_raffle
    from webapp.models import Raffle
    from webapp.services.ledger import find_mismatches
    from webapp.services.play import raffles

    raffle = session.get(Raffle, rid)
    started = time.perf_counter()
    again = draw_raffle(rid)
    print(f"the whole job again: {time.perf_counter() - started:6.2f}s  "
          f"(froze {again['froze']}, drew {again['drew']}, awarded {again['awarded']})")
    session.rollback()
    started = time.perf_counter()
    check = engine.verify(raffle.entries_file, raffle.seed.hex(), "", rid, 5, 5, commitment_hex=raffle.commitment)
    same = list(check.winners) + list(check.alternates) == [w.entry_code for w in raffles.winners(session, rid)]
    print(f"verifier re-run from the stored file: {time.perf_counter() - started:6.2f}s  same winners: {same}")
    bad = len(find_mismatches(session))
    print(f"doctor: {bad} mismatch(es)")
    return same and not bad and not any(again[k] for k in ("froze", "drew", "awarded"))


if __name__ == "__main__":
    sys.exit(main())
