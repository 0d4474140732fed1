"""Bearer API keys: who is calling, and which rate-limit bucket they count against.

Flask-Limiter checks limits in an app-level `before_request`, which runs before
the blueprint's own hooks, so the key is resolved lazily by whichever asks first
and kept in the request's environ (not on `g`: an app context, and so `g`, can
outlive one request)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_limiter.util import get_remote_address
from sqlalchemy import and_, or_, select, update

from webapp.api.responses import ApiError
from webapp.extensions import db
from webapp.models import ApiIdempotency, ApiKey, utcnow
from webapp.services import config_cache
from webapp.services.members.staff import api_key_matches, split_api_key

# last_used_at is informative: refresh it at most this often, so a busy till
# does not make every request write (and lock) its key's row
TOUCH_EVERY = timedelta(minutes=1)
ENVIRON_KEY = "vafa.api_key"
IDEMPOTENCY_HEADER = "Idempotency-Key"  # read with the key: see `_lookup`


def _caller() -> dict:
    caller = request.environ.get(ENVIRON_KEY)
    if caller is None:
        caller = request.environ[ENVIRON_KEY] = {"id": None, "prefix": None, "stored": None}
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        parts = split_api_key(token.strip()) if scheme.lower() == "bearer" else None
        if parts is not None:
            key, stored = _lookup(parts[0])
            if api_key_matches(key, parts[1]):
                caller.update(id=key.id, prefix=key.prefix, stored=stored)
                _touch(key)
    return caller


def _lookup(prefix: str) -> tuple[ApiKey | None, ApiIdempotency | None]:
    """The key's row and, in the same round trip, what every request would
    otherwise ask for separately: the configuration version (`config_cache`)
    and, for a POST, the answer already stored under its Idempotency-Key."""
    session = db.session
    retry_of = request.headers.get(IDEMPOTENCY_HEADER) if request.method == "POST" else None
    query = select(ApiKey, config_cache.version_column()).where(ApiKey.prefix == prefix)
    if retry_of:
        query = query.add_columns(ApiIdempotency).outerjoin(ApiIdempotency, and_(
            ApiIdempotency.api_key_id == ApiKey.id, ApiIdempotency.key == retry_of))
    row = session.execute(query).first()
    if row is None:
        return None, None
    config_cache.remember_version(session, row[1])
    return row[0], row[2] if retry_of else None


def current_api_key_id() -> int | None:
    """The id of the valid, unrevoked key this request presents, or None."""
    return _caller()["id"]


def stored_answer() -> ApiIdempotency | None:
    """The answer stored for this key and the request's Idempotency-Key when the
    key was looked up (`idempotency` checks it still matches the request)."""
    return _caller()["stored"]


def _touch(key: ApiKey) -> None:
    now = utcnow()
    if key.last_used_at is not None and key.last_used_at > now - TOUCH_EVERY:
        return
    # guarded: of concurrent requests only one writes, the others match no row
    db.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - TOUCH_EVERY))
        .values(last_used_at=now)
    )
    db.session.commit()


def require_api_key() -> None:
    """Blueprint hook: every endpoint but the OpenAPI document needs a valid key."""
    if request.endpoint == "api.openapi":
        return
    if current_api_key_id() is None:
        raise ApiError(
            401, "unauthorized", "A valid API key is required: 'Authorization: Bearer vafa_…'.",
            headers={"WWW-Authenticate": 'Bearer realm="vafa"'},
        )


def rate_limit_key() -> str:
    """One bucket per API key, shared by all its requests; per IP without one."""
    if current_api_key_id() is not None:
        return f"key:{_caller()['prefix']}"
    return f"ip:{get_remote_address()}"


def rate_limit() -> str:
    # a callable, so the limit is read per request (tests and deployments may change it)
    return current_app.config["API_RATE_LIMIT"]
