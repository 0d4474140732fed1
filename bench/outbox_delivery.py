"""The outbox delivered to a real local SMTP server and a local SMS provider.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
        python bench/outbox_delivery.py [--messages 100000] [--workers 2] [--fresh]

Seeds members with an e-mail address, a mobile and both consents (set-wise), writes
half the messages for e-mail and half for SMS with `messages.notify_from`, then:

1. throughput: `--workers` real `vafa worker --burst` processes deliver them
   (SMTP through aiosmtpd in this process, SMS through the generic `http` sender
   to a local HTTP server here); prints messages per second per channel;
2. kills: the same again with a new batch, the work horse SIGKILLed twice
   mid-batch; after each kill the rows it held wait out their lease and the next
   worker takes them over. Then both servers' logs are checked against the
   outbox: every message received, and how many arrived twice (a kill that
   lands between the provider's answer and our commit: the provider has our id
   to drop the copy).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock, Thread

from pg_bench import throwaway_app
from sqlalchemy import String, cast, literal, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LEASE = 5  # seconds: a killed worker's rows are taken over this soon


class Received:
    def __init__(self):
        self.ids: Counter = Counter()
        self.lock = Lock()

    def add(self, message_id: str) -> None:
        with self.lock:
            self.ids[message_id] += 1


def start_sms_server(received: Received) -> str:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.add(str(body["id"]))
            answer = json.dumps({"id": f"sms-{body['id']}"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def start_smtp_server(received: Received) -> int:
    from aiosmtpd.controller import Controller

    from tests.helpers.mail import free_port

    class Keeper:
        async def handle_DATA(self, _server, _session, envelope):
            for line in envelope.content.split(b"\r\n"):
                if line.startswith(b"X-Vafa-Message:"):
                    received.add(line.split(b":", 1)[1].strip().decode())
                    break
                if not line:
                    break
            return "250 OK"

    port = free_port()
    Controller(Keeper(), hostname="127.0.0.1", port=port).start()
    return port


def seed(session, members: int) -> None:
    have = session.scalar(text("SELECT count(*) FROM member WHERE email LIKE 'outbench%'"))
    if have >= members:
        return
    first = (session.scalar(text("SELECT coalesce(max(id), 0) FROM member")) or 0) + 1
    session.execute(text("""
        INSERT INTO member (id, email, mobile, display_name, locale, referral_code, status, session_token,
                            points_balance, credit_balance, tier_metric, consent_email, consent_sms,
                            consent_push, created_at)
        SELECT g, 'outbench' || g || '@example.com', '+98912' || lpad(g::text, 7, '0'), 'Bench ' || g,
               CASE WHEN g % 3 = 0 THEN 'en' ELSE 'fa' END, 'ob' || to_hex(g), 'active',
               md5(g::text || random()::text), 0, 0, 0, true, true, false, now()
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g
    """), {"first": first, "last": first + members - have - 1})
    session.execute(text("SELECT setval(pg_get_serial_sequence('member', 'id'), (SELECT max(id) FROM member))"))
    session.commit()


def write_batch(session, tag: str, per_channel: int) -> float:
    from webapp.models import Member
    from webapp.services import messages

    started = time.perf_counter()
    audience = (select(Member.id, literal(f"{tag}:") + cast(Member.id, String))
                .where(Member.email.like("outbench%")).order_by(Member.id).limit(per_channel))
    for channel in ("email", "sms"):
        messages.notify_from(session, audience, kind="reward_redeemed",
                             params={"reward_fa": "چای", "reward_en": "Bench tea", "coupon": "BENCH-1", "points": 100},
                             now=datetime.now(UTC), channels=(channel,))
    session.commit()
    return time.perf_counter() - started


def worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "webapp", "worker", "--burst"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def enqueue_jobs(app, count: int) -> None:
    from webapp.jobs import get_queue
    from webapp.jobs.messages import JOB_TIMEOUT, deliver_outbox

    with app.app_context():
        queue = get_queue("high")
        queue.empty()  # exactly `count` jobs: the commit that wrote the batch woke one already
        for _ in range(count):
            queue.enqueue(deliver_outbox, job_timeout=JOB_TIMEOUT)


def counts(session, tag: str) -> dict:
    rows = session.execute(text(
        "SELECT channel, status, count(*), min(sent_at), max(sent_at) FROM outbox_message "
        "WHERE key LIKE :tag GROUP BY channel, status"), {"tag": f"{tag}:%"}).all()
    return {(c, s): (n, first, last) for c, s, n, first, last in rows}


def pending(session, tag: str) -> int:
    session.rollback()
    return session.scalar(text("SELECT count(*) FROM outbox_message WHERE key LIKE :tag "
                               "AND status IN ('pending', 'sending')"), {"tag": f"{tag}:%"})


def throughput(app, session, env, per_channel: int, workers: int) -> None:
    took = write_batch(session, "speed", per_channel)
    print(f"wrote {2 * per_channel:,} outbox rows in {took:.2f} s")
    enqueue_jobs(app, workers)
    started = time.perf_counter()
    for process in [worker(env) for _ in range(workers)]:
        process.wait()
    wall = time.perf_counter() - started
    for (channel, status), (n, first, last) in sorted(counts(session, "speed").items()):
        span = (last - first).total_seconds() if first and last else 0
        rate = f"{n / span:,.0f} msg/s" if span else "-"
        print(f"  {channel:6} {status:10} {n:>8,}  {rate} (first to last send, {span:.1f} s)")
    print(f"  all delivered by {workers} worker(s) in {wall:.1f} s: {2 * per_channel / wall:,.0f} msg/s")


def horse_of(process: subprocess.Popen) -> int | None:
    """The work horse: of the worker's children (its scheduler starts first), the
    one forked last, for the job in hand."""
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()

    def started(pid: str) -> int:
        try:  # field 22 of /proc/<pid>/stat: start time in clock ticks since boot
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        except (OSError, IndexError, ValueError):
            return -1

    return int(max(children, key=started)) if children else None


def sent(session, tag: str) -> int:
    session.rollback()
    return session.scalar(text("SELECT count(*) FROM outbox_message WHERE key LIKE :tag AND status = 'sent'"),
                          {"tag": f"{tag}:%"})


def killed_run(app, session, env, per_channel: int, kills: int) -> None:
    write_batch(session, "kill", per_channel)
    total = 2 * per_channel
    for n in range(kills):
        enqueue_jobs(app, 1)
        process = worker(env)
        target = total * (n + 1) // (kills + 1)  # kill at evenly spaced points of the batch
        while sent(session, "kill") < target and process.poll() is None:
            time.sleep(0.05)
        horse = horse_of(process)
        if horse is None:
            print(f"  kill {n + 1}: the worker had finished already")
            process.wait()
            continue
        os.kill(horse, signal.SIGKILL)
        print(f"  kill {n + 1}: SIGKILLed the work horse {horse} after {sent(session, 'kill'):,} messages")
        process.wait()  # the worker goes on with any other job queued, then stops
        time.sleep(LEASE + 1)  # its claimed rows wait out their lease
    while pending(session, "kill"):
        enqueue_jobs(app, 1)
        worker(env).wait()


def check_exactly_once(session, email: Received, sms: Received) -> bool:
    ids = {str(i) for i in session.scalars(text("SELECT id FROM outbox_message WHERE key LIKE 'kill:%'"))}
    report = True
    for name, got in (("e-mail", email), ("SMS", sms)):
        mine = {i: n for i, n in got.ids.items() if i in ids}
        channel = "email" if name == "e-mail" else "sms"
        expected = session.scalar(text("SELECT count(*) FROM outbox_message WHERE key LIKE 'kill:%' "
                                       "AND channel = :c"), {"c": channel})
        twice = sum(1 for n in mine.values() if n > 1)
        print(f"  {name}: {len(mine):,} of {expected:,} messages received, {twice} received twice")
        report &= len(mine) == expected
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000, help="per run, half e-mail, half SMS")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    email, sms = Received(), Received()
    smtp_port, sms_url = start_smtp_server(email), start_sms_server(sms)
    env = {**os.environ, "VAFA_MAIL_SENDER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
           "SMTP_TLS": "none", "VAFA_SMS_SENDER": "http", "VAFA_SMS_URL": sms_url, "VAFA_SMS_TOKEN": "bench",
           "VAFA_OUTBOX_LEASE_SECONDS": str(LEASE), "VAFA_RATELIMIT": "0"}
    os.environ.update(env)
    app = throwaway_app(args.fresh)
    from webapp.extensions import db

    per_channel = args.messages // 2
    with app.app_context():
        session = db.session
        seed(session, per_channel)
        session.execute(text("DELETE FROM outbox_message WHERE key LIKE 'speed:%' OR key LIKE 'kill:%'"))
        session.commit()
        print(f"== throughput: {args.messages:,} messages, {args.workers} worker(s)")
        throughput(app, session, env, per_channel, args.workers)
        print(f"== {args.messages:,} more messages, the worker SIGKILLed {args.kills} times mid-batch")
        killed_run(app, session, env, per_channel, args.kills)
        ok = check_exactly_once(session, email, sms)
    print("every message received" if ok else "MESSAGES LOST")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
