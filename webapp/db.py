"""Engine and session handling shared by web requests, jobs and the CLI.

One scoped session per thread; the request (or job, or command) that opened it
commits once at its boundary. Services only add and flush.
"""

from __future__ import annotations

import os

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def insert_ignoring_duplicates(session, model):
    """INSERT … ON CONFLICT DO NOTHING for the session's database (PostgreSQL or
    SQLite both spell it the same way, through their own dialect's insert)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def inserted_count(session, stmt) -> int:
    """Run an INSERT … SELECT and say how many rows it inserted (SQLAlchemy 2.1
    reports -1 for an INSERT unless asked to keep the driver's count)."""
    return session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def in_ids(session, column, ids):
    """`column IN (ids)` for a long list of ids. PostgreSQL gets one array
    parameter (`= ANY(:ids)`): thousands of placeholders cost more to send and
    parse than the statement takes to run. SQLite has no arrays."""
    from sqlalchemy import BigInteger, any_, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY

    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger), unique=True))
    return column.in_(list(ids))


def normalise_url(url: str) -> str:
    # plain postgres URLs (as hosting platforms hand them out) use psycopg 3
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_immediate_transactions(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    # RQ forks a work horse per job: the child must not reuse the parent's sockets
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def _sqlite_immediate_transactions(engine: Engine) -> None:
    """WAL + BEGIN IMMEDIATE: a deferred BEGIN that reads then writes fails with
    SQLITE_BUSY whatever the busy timeout, so every transaction takes the write
    lock up front (SQLAlchemy's documented pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Holds the engine and the thread-scoped session of the current app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app) -> None:
        if self.engine is not None and str(self.engine.url) == str(
            make_engine_url(app.config["DATABASE_URL"])
        ):
            engine = self.engine
        else:
            if self.engine is not None:
                self.engine.dispose()
            engine = make_engine(app.config["DATABASE_URL"])
        self.engine = engine
        self.session.remove()
        self.session.configure(bind=engine)
        app.extensions["vafa_db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc):
            self.session.remove()

    @property
    def dialect(self) -> str:
        assert self.engine is not None, "database not initialised"
        return self.engine.dialect.name


def make_engine_url(url: str):
    from sqlalchemy.engine import make_url

    return make_url(normalise_url(url))


db = Database()
