"""`Idempotency-Key` on every POST: a retried request gets the first answer back.

The claim row (api key, Idempotency-Key, request hash) is inserted and flushed
*before* the work, in the same transaction. A concurrent twin then blocks on the
unique index (PostgreSQL) or on the write lock (SQLite's BEGIN IMMEDIATE) until
the first commits, after which it finds the stored answer and replays it. Only
2xx answers are stored; an error rolls the claim back with everything else, so
a retry runs again."""

from __future__ import annotations

import hashlib
import json
import re
from functools import wraps

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.api.body import read_json_body
from webapp.api.keys import current_api_key_id
from webapp.api.responses import ApiError, dump, text_response
from webapp.extensions import db
from webapp.models import ApiIdempotency, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"[\x20-\x7e]{1,200}")  # printable ASCII


def idempotency_key() -> str:
    value = request.headers.get(HEADER)
    if value is None or not value.strip():
        raise ApiError(400, "missing_idempotency_key",
                       f"Every POST needs an '{HEADER}' header (a unique value per operation).")
    if not _KEY.fullmatch(value):
        raise ApiError(400, "invalid_idempotency_key",
                       f"'{HEADER}' must be 1 to 200 printable ASCII characters.")
    return value


def request_digest(method: str, path: str, body: object) -> str:
    """Same method, path and JSON (whatever its key order or spacing) → same digest."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def idempotent(view):
    """For POST views taking the parsed body and returning (payload, status).
    The wrapper owns the transaction: it commits a success with its stored answer."""

    @wraps(view)
    def wrapper(**kwargs) -> Response:
        key = idempotency_key()
        body = read_json_body()
        digest = request_digest(request.method, request.path, body)
        claim, replay = _claim(current_api_key_id(), key, digest)
        if replay is not None:
            return replay
        try:
            payload, status = view(body, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        text = dump(payload)
        if 200 <= status < 300:
            claim.status_code, claim.response_body = status, text
            db.session.commit()
        else:
            db.session.rollback()
        return text_response(text, status)

    return wrapper


def _claim(api_key_id: int, key: str, digest: str) -> tuple[ApiIdempotency | None, Response | None]:
    session = db.session
    stored = _stored(api_key_id, key)
    if stored is None:
        claim = ApiIdempotency(api_key_id=api_key_id, key=key, request_hash=digest, created_at=utcnow())
        try:
            session.add(claim)
            session.flush()
            return claim, None
        except IntegrityError:
            # a concurrent twin committed first: answer the way it did
            session.rollback()
            stored = _stored(api_key_id, key)
            if stored is None:
                raise ApiError(409, "idempotency_key_in_use",
                               "A request with this Idempotency-Key is in progress; retry.") from None
    if stored.request_hash != digest:
        raise ApiError(409, "idempotency_key_reused",
                       "This Idempotency-Key was already used for a different request.")
    return None, text_response(stored.response_body, stored.status_code, {REPLAYED_HEADER: "true"})


def _stored(api_key_id: int, key: str) -> ApiIdempotency | None:
    return db.session.scalar(
        select(ApiIdempotency).where(ApiIdempotency.api_key_id == api_key_id, ApiIdempotency.key == key)
    )
