"""Bearer API keys: who is calling, and which rate-limit bucket they count against.

Flask-Limiter checks limits in an app-level `before_request`, which runs before
the blueprint's own hooks, so the key is resolved lazily by whichever asks first
and kept in the request's environ (not on `g`: an app context, and so `g`, can
outlive one request)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_limiter.util import get_remote_address
from sqlalchemy import or_, update

from webapp.api.responses import ApiError
from webapp.extensions import db
from webapp.models import ApiKey, utcnow
from webapp.services.members.staff import verify_api_key

# last_used_at is informative: refresh it at most this often, so a busy till
# does not make every request write (and lock) its key's row
TOUCH_EVERY = timedelta(minutes=1)
ENVIRON_KEY = "vafa.api_key"


def _caller() -> dict:
    caller = request.environ.get(ENVIRON_KEY)
    if caller is None:
        caller = request.environ[ENVIRON_KEY] = {"id": None, "prefix": None}
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            key = verify_api_key(db.session, token.strip())
            if key is not None:
                caller.update(id=key.id, prefix=key.prefix)
                _touch(key)
    return caller


def current_api_key_id() -> int | None:
    """The id of the valid, unrevoked key this request presents, or None."""
    return _caller()["id"]


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
