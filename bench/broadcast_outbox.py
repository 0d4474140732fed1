"""A broadcast to 100,000 members on PostgreSQL, against a raw INSERT … SELECT.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/broadcast_outbox.py [--members 100000] [--holdout 10] [--channels inbox,email,sms] [--fresh]

Seeds N active members set-wise (`bonus_campaign.seed`) unless the database
already has them, then runs the real job (`webapp.jobs.broadcasts.send_broadcast`:
the audience frozen with INSERT … SELECT, the hold-out drawn by one UPDATE over a
random sample, and the outbox rows written by `messages.notify_from`, one
INSERT … SELECT per channel, the inbox channel with its inbox rows) and times
the whole job and its writing of the outbox rows. In the same run it times the
raw SQL floor: plain INSERT … SELECTs of the same rows (outbox rows per channel,
and the inbox rows) from the frozen audience into the real tables under other
keys, rolled back, once before and once after the job; the ratio is taken
against the faster (and their mean, as a busy machine drifts between them). Then runs the job again (nothing new may be written).
Target: the job's outbox writing within 3× of the raw statements.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from bonus_campaign import seed
from pg_bench import throwaway_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

TARGET = 3.0


def raw_insert(session: Session, broadcast_id: int, channels: list[str], now: datetime) -> tuple[float, int]:
    """The same outbox (and inbox) rows with plain INSERT … SELECTs, rolled back."""
    params = {"id": broadcast_id, "now": now, "json": '{"subject_en": "raw", "body_en": "raw"}'}
    written = 0
    started = time.perf_counter()
    for channel in channels:
        status, sent = ("sent", ":now") if channel == "inbox" else ("pending", "NULL")
        written += session.execute(text(f"""
            INSERT INTO outbox_message (member_id, channel, kind, category, key, params, broadcast_id, status,
                                        attempts, next_attempt_at, created_at, sent_at)
            SELECT member_id, :channel, 'broadcast', 'marketing', 'raw:' || :id || ':member:' || member_id,
                   CAST(:json AS json), :id, '{status}', 0, :now, :now, {sent}
            FROM broadcast_member WHERE broadcast_id = :id AND NOT held_out
        """), {**params, "channel": channel}).rowcount  # noqa: S608  (constants only)
        if channel == "inbox":
            session.execute(text("""
                INSERT INTO inbox_message (member_id, kind, params, key, created_at)
                SELECT member_id, 'broadcast', CAST(:json AS json), 'raw:' || :id || ':member:' || member_id, :now
                FROM broadcast_member WHERE broadcast_id = :id AND NOT held_out
            """), params)
    seconds = time.perf_counter() - started
    session.rollback()
    return seconds, written


def timed_writes(broadcast_send) -> dict:
    """Wrap the job's outbox writing step so its time is recorded (the job itself is unchanged)."""
    spent = {"write": 0.0}
    original = broadcast_send.write_messages

    def write_messages(session, broadcast, now):
        started = time.perf_counter()
        try:
            return original(session, broadcast, now)
        finally:
            session.flush()
            spent["write"] += time.perf_counter() - started

    broadcast_send.write_messages = write_messages
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--holdout", type=int, default=10, help="hold-out percent")
    parser.add_argument("--channels", default="inbox,email,sms")
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the schema first")
    args = parser.parse_args()
    app = throwaway_app(args.fresh)
    from webapp.extensions import db
    from webapp.jobs.broadcasts import send_broadcast
    from webapp.models import OutboxMessage
    from webapp.services.members import audit
    from webapp.services.messages import broadcast_send, broadcasts

    channels = [c for c in args.channels.split(",") if c]
    spent = timed_writes(broadcast_send)
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        started = time.perf_counter()
        print(f"seeded {seed(session, args.members, now):,} members in {time.perf_counter() - started:.1f}s")
        broadcast = broadcasts.create_broadcast(session, broadcasts.BroadcastDraft(
            name=f"Bench {now:%H:%M:%S}", segment_id=None, channels=tuple(channels), subject_fa="حراج",
            subject_en="Sale", body_fa="{{ name }} عزیز، حراج آغاز شد.", body_en="Dear {{ name }}, the sale is on.",
            holdout_percent=args.holdout, attribution_days=7), actor=audit.CLI, now=now)
        broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
        session.commit()
        bid = broadcast.id
        # the frozen audience the raw statements read: frozen by the job; before it, by a rolled-back copy
        broadcast_send.freeze_audience(session, broadcast, now)
        broadcast_send.draw_hold_out(session, bid, round(args.members * args.holdout / 100))
        raw_before, n = raw_insert(session, bid, channels, now)  # rolls the audience back too
        print(f"raw INSERT … SELECT of the {n:,} outbox rows (+ inbox rows), before the job: {raw_before:6.2f}s")

        started = time.perf_counter()
        result = send_broadcast(bid)
        job_s = time.perf_counter() - started
        write_s = spent["write"]
        rows = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.broadcast_id == bid))
        print(f"broadcast job: {job_s:6.2f}s  {result['targeted']:,} messaged, {result['held_out']:,} held out, "
              f"{rows:,} outbox rows on {len(channels)} channels, status {result['status']}")
        print(f"  of which writing the outbox rows (notify_from, {len(channels)} INSERT … SELECT): {write_s:6.2f}s")

        raw_after, n = raw_insert(session, bid, channels, now)
        raw_s = min(raw_before, raw_after)
        print(f"raw INSERT … SELECT of the same {n:,} outbox rows (+ inbox rows), after the job: {raw_after:6.2f}s")
        ratio = write_s / raw_s
        mean = (raw_before + raw_after) / 2
        print(f"the job's outbox writing takes {ratio:.2f}× the faster raw run (target ≤ {TARGET:.0f}×), "
              f"{write_s / mean:.2f}× their mean; the whole job {job_s / raw_s:.2f}×")

        started = time.perf_counter()
        again = send_broadcast(bid)
        session.rollback()
        after = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.broadcast_id == bid))
        print(f"second run: {time.perf_counter() - started:6.2f}s  status {again['status']}, "
              f"outbox rows {after:,} (unchanged: {after == rows})")
    return 0 if ratio <= TARGET and after == rows else 1


if __name__ == "__main__":
    sys.exit(main())
