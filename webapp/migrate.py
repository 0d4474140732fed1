"""Running Alembic from the app (`vafa db upgrade`, `make run`, the test suite)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from webapp.config import ROOT


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    from webapp.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        heads = set(MigrationContext.configure(conn).get_current_heads())
    engine.dispose()
    return heads


def rebuild(url: str) -> None:
    """Drop everything and upgrade from nothing (test suites and benchmarks only).
    SQLite files are expected to be new; PostgreSQL loses its whole public schema."""
    from sqlalchemy import text

    from webapp.db import make_engine, normalise_url

    if not normalise_url(url).startswith("sqlite"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
