"""Alembic environment: the URL comes from the caller or DATABASE_URL."""

from __future__ import annotations

from alembic import context

from webapp import models  # noqa: F401  (registers every table on Base.metadata)
from webapp.config import from_environment
from webapp.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or from_environment()["DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_, obj, autogen_context):
    """Render our UTC column type as a plain DateTime: migrations must not import app code."""
    from webapp.models.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # batch migrations rebuild tables (copy, drop, rename): with foreign keys on,
        # dropping a referenced table fails. The pragma only works outside a
        # transaction, so it goes straight to the driver before anything begins.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    _migrate(connection)
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.rollback()
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `vafa db upgrade`")
run_migrations_online()
