"""The `vafa` command (also `flask --app webapp ...`). Every command exits
non-zero with a one-line reason on failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db
from webapp.models import utcnow
from webapp.services.errors import DomainError
from webapp.services.members import audit


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def register_commands(app) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(games_group)
    for command in (doctor, create_staff, create_api_key, demo_data, worker, cron, run):
        app.cli.add_command(command)


@click.group("db", help="Database schema.")
def db_group():
    pass


@db_group.command("upgrade", help="Upgrade the database schema to the newest revision.")
@with_appcontext
def db_upgrade():
    from webapp.migrate import upgrade

    try:
        upgrade(current_app.config["DATABASE_URL"])
    except Exception as exc:  # noqa: BLE001  one line, not a traceback
        fail(f"database upgrade failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    click.echo("database is up to date")


@click.command(help="Check that every balance equals the sum of its ledger entries and lots.")
@with_appcontext
def doctor():
    from webapp.services.ledger import find_mismatches
    from webapp.services.play import raffles
    from webapp.services.referrals import marketer_ledger, tally

    try:
        mismatches = find_mismatches(db.session)
        owed = marketer_ledger.find_mismatches(db.session)
        counters = raffles.counter_mismatches(db.session)
        funnels = tally.mismatches(db.session)
    except Exception as exc:  # noqa: BLE001
        fail(f"cannot read the ledger: {str(exc).splitlines()[0]}")
    for m in mismatches:
        lots = "" if m.lots_sum is None else f", open lots {m.lots_sum}"
        click.echo(
            f"member {m.member_id}: {m.currency} balance {m.balance} != entries {m.entries_sum}{lots}"
        )
    for marketer_id, balance, entries in owed:
        click.echo(f"marketer {marketer_id}: balance {balance} != entries {entries}")
    for c in counters:
        click.echo(f"raffle {c.raffle_id}: counters {c.entries_count} entries / {c.tickets_total} tickets"
                   f" != rows {c.entries} / {c.tickets}")
    for member_id, counter, kept, rows in funnels:
        click.echo(f"member {member_id}: invite {counter} {kept} != rows {rows}")
    if mismatches or owed:
        fail(f"{len(mismatches) + len(owed)} balance mismatch(es)")
    if counters:
        fail(f"{len(counters)} raffle counter mismatch(es)")
    if funnels:
        fail(f"{len(funnels)} invite counter mismatch(es)")
    click.echo("ledger ok: every balance equals the sum of its entries")


@click.command("create-staff", help="Create a staff account (roles: owner, marketer, operator, auditor).")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["owner", "marketer", "operator", "auditor"]))
@click.option("--name", "display_name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="VAFA_STAFF_PASSWORD")
@with_appcontext
def create_staff(email, role, display_name, password):
    from webapp.services.members.staff import create_staff as create

    try:
        staff = create(db.session, email=email, password=password, role=role,
                       display_name=display_name, actor=audit.CLI, now=utcnow())
        db.session.commit()
    except DomainError as exc:
        fail(exc.message)
    click.echo(f"created {staff.role} {staff.email} (id {staff.id})")


@click.command("create-api-key", help="Create an API key for a till or shop; prints it once.")
@click.option("--name", required=True, help="What the key is for, e.g. 'till 1'.")
@with_appcontext
def create_api_key(name):
    from webapp.services.members.staff import create_api_key as create

    try:
        _key, plain = create(db.session, name=name, actor=audit.CLI, now=utcnow())
        db.session.commit()
    except DomainError as exc:
        fail(exc.message)
    click.echo(plain)


@click.command("demo-data", help="Load demo staff and members with history (once).")
@click.option("--force", is_flag=True, help="Load even if the club already has members.")
@with_appcontext
def demo_data(force):
    from webapp.demo import load_demo_data

    try:
        logins = load_demo_data(db.session, now=utcnow(), force=force)
        db.session.commit()
    except DomainError as exc:
        fail(exc.message)
    except SQLAlchemyError as exc:
        fail(f"cannot write demo data (run `vafa db upgrade` first?): {str(exc).splitlines()[0]}")
    if logins is None:
        click.echo("the club already has data; demo data not loaded (use --force)")
        return
    for line in logins:
        click.echo(line)


@click.group("games", help="Contests, raffles and other games.")
def games_group():
    pass


@games_group.command("rebuild-leaderboards", help="Rebuild the Redis leaderboards of open contests from the database.")
@with_appcontext
def rebuild_leaderboards():
    from webapp.services.play.leaderboards import rebuild_open_boards

    try:
        rebuilt = rebuild_open_boards(db.session, current_app.extensions["vafa_redis"])
    except SQLAlchemyError as exc:
        fail(f"cannot read the contests (run `vafa db upgrade` first?): {str(exc).splitlines()[0]}")
    db.session.rollback()
    for contest_id, count in rebuilt.items():
        click.echo(f"contest {contest_id}: {count} attempts")
    click.echo(f"{len(rebuilt)} leaderboards rebuilt")


@click.command(help="Run an RQ worker (with the scheduler for delayed jobs).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst):
    from rq import Worker

    from webapp.jobs import QUEUES, get_queue
    from webapp.jobs.context import use_app

    use_app(current_app._get_current_object())
    queues = [get_queue(name) for name in QUEUES]
    Worker(queues, connection=current_app.extensions["vafa_redis"]).work(
        with_scheduler=True, burst=burst
    )


@click.command(help="Run the periodic-job scheduler (run exactly one).")
@with_appcontext
def cron():
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=current_app.extensions["vafa_redis"])
    scheduler.load_config_from_file("webapp.jobs.cron_config")
    scheduler.start()


@click.command(help="Run everything: web (gunicorn), worker and scheduler (embedded services when unset).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Web worker processes [default: $VAFA_WEB_WORKERS, else 2 x cores + 1, at most 4].")
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty club.")
@with_appcontext
def run(host, port, workers, no_demo):
    from webapp.demo import load_demo_data
    from webapp.migrate import upgrade
    from webapp.serve import default_web_workers, listen, serve

    app = current_app._get_current_object()
    if "VAFA_SECURE_COOKIES" not in os.environ:
        # `vafa run` serves plain HTTP on this machine: secure-only cookies would never return
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = False
    try:
        workers = workers or default_web_workers()
    except ValueError:
        fail(f"VAFA_WEB_WORKERS must be a whole number, not {os.environ['VAFA_WEB_WORKERS']!r}")
    try:
        sock = listen(host, port)  # first: a taken port fails before anything starts
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {os.strerror(exc.errno) if exc.errno else exc}")
    try:
        upgrade(app.config["DATABASE_URL"])
    except Exception as exc:  # noqa: BLE001
        fail(f"database upgrade failed: {str(exc).splitlines()[0]}")
    logins = None if no_demo else load_demo_data(db.session, now=utcnow())
    db.session.commit()
    db.session.remove()

    # children attach to the same Redis (exported by create_app) and database
    env = dict(os.environ, REDIS_URL=app.config["REDIS_URL"],
               DATABASE_URL=app.config["DATABASE_URL"])
    children = [
        subprocess.Popen([sys.executable, "-m", "webapp", "worker"], env=env),
        subprocess.Popen([sys.executable, "-m", "webapp", "cron"], env=env),
    ]

    def stop():
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()

    # Ctrl-C before gunicorn installs its handlers must stop us too, even if we were
    # started with SIGINT ignored (nohup, `cmd &`); gunicorn's arbiter then takes over
    # SIGINT/SIGTERM, stops its workers and leaves with SystemExit
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _banner(f"http://{host}:{port}/", logins)
    try:
        serve(app, sock, workers)
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def _banner(url: str, logins) -> None:
    click.echo(f"\n  Vafa is running at {url}  (staff: {url}admin/)")
    if logins:
        click.echo("  Demo logins:")
        for line in logins:
            click.echo(f"    {line}")
    click.echo("  Press Ctrl-C to stop.\n")


def main() -> None:
    from dotenv import load_dotenv

    load_dotenv(os.path.join(os.getcwd(), ".env"))

    def make_app():
        from webapp import create_app

        return create_app()

    group = FlaskGroup(create_app=make_app, add_default_commands=False, load_dotenv=False,
                       help="Vafa customer club.")
    from flask.cli import routes_command, shell_command

    group.add_command(shell_command)
    group.add_command(routes_command)
    group(prog_name="vafa")
