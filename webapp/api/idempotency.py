"""`Idempotency-Key` on every POST: a retried request gets the first answer back.

A retry is recognised by the API key's own query (`keys._lookup` brings the
answer stored under the request's Idempotency-Key), so a first request pays no
statement for the check. The answer row (api key, Idempotency-Key, request hash,
answer) is inserted with the work, in its transaction, by one INSERT … ON
CONFLICT DO NOTHING RETURNING: of concurrent twins exactly one commits it (on
PostgreSQL the others wait on the unique index, then insert nothing; SQLite's
BEGIN IMMEDIATE runs them one after the other, and the later ones find the
answer with the key). A twin that inserted nothing, or whose work failed on
what the first one did (its external_ref, its member's lock), rolls its work
back and replays the stored answer. Only 2xx answers are stored; an error
leaves nothing, so a retry runs again."""

from __future__ import annotations

import hashlib
import json
import re
from functools import wraps

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.api.body import read_json_body
from webapp.api.keys import IDEMPOTENCY_HEADER, current_api_key_id, stored_answer
from webapp.api.responses import ApiError, dump, text_response
from webapp.db import insert_ignoring_duplicates
from webapp.extensions import db
from webapp.models import ApiIdempotency, utcnow
from webapp.services.errors import DomainError

HEADER = IDEMPOTENCY_HEADER
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
        api_key_id = current_api_key_id()
        stored = stored_answer()  # read with the API key, no query of its own
        if stored is not None:
            return _replay(stored, digest)
        try:
            payload, status = view(body, **kwargs)
        except (ApiError, DomainError, IntegrityError):
            # the work may have failed because a twin did it first: answer as it did
            db.session.rollback()
            twin = _stored(api_key_id, key)
            if twin is not None:
                return _replay(twin, digest)
            raise
        except BaseException:
            db.session.rollback()
            raise
        text = dump(payload)
        if not 200 <= status < 300:
            db.session.rollback()
            return text_response(text, status)
        if not _store(api_key_id, key, digest, status, text):
            # a twin committed this key while we worked: ours is undone, its answer stands
            db.session.rollback()
            return _replay(_stored(api_key_id, key), digest)
        db.session.commit()
        return text_response(text, status)

    return wrapper


def _store(api_key_id: int, key: str, digest: str, status: int, text: str) -> bool:
    """Insert-or-nothing, in the transaction of the work it answers: on
    PostgreSQL a concurrent twin's INSERT waits here on the unique index until
    this commits, then inserts nothing. False when a twin's answer is there."""
    session = db.session
    return session.execute(
        insert_ignoring_duplicates(session, ApiIdempotency)
        .values(api_key_id=api_key_id, key=key, request_hash=digest, status_code=status,
                response_body=text, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
        .returning(ApiIdempotency.id)
    ).first() is not None


def _replay(stored: ApiIdempotency, digest: str) -> Response:
    if stored.request_hash != digest:
        raise ApiError(409, "idempotency_key_reused",
                       "This Idempotency-Key was already used for a different request.")
    return text_response(stored.response_body, stored.status_code, {REPLAYED_HEADER: "true"})


def _stored(api_key_id: int, key: str) -> ApiIdempotency | None:
    return db.session.scalar(
        select(ApiIdempotency).where(ApiIdempotency.api_key_id == api_key_id, ApiIdempotency.key == key)
    )
