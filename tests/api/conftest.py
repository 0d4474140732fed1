"""Fixtures for the integration API: a client that speaks it like a till does."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories


class ApiClient:
    """Bearer key on every request; a fresh Idempotency-Key on every POST unless given."""

    def __init__(self, client, key: str | None) -> None:
        self.client = client
        self.key = key

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, body=None, *, key: str | None = None, headers: dict | None = None, **kwargs):
        extra = {"Idempotency-Key": key or str(uuid.uuid4())}
        extra.update(headers or {})
        if "data" not in kwargs:
            kwargs["data"] = json.dumps({} if body is None else body)
            kwargs.setdefault("content_type", "application/json")
        return self.client.post(f"/api/v1{path}", headers=self.headers(extra), **kwargs)


@pytest.fixture
def api(client, api_key):
    return ApiClient(client, api_key)


@pytest.fixture
def api_as(client):
    """An API client with the given plain key (None: no Authorization header)."""
    return lambda key: ApiClient(client, key)


@pytest.fixture
def make_api_key(app):
    """Another API key (plain text), optionally revoked."""
    from webapp.extensions import db

    def make(name="another till", *, revoked=False):
        with app.app_context():
            plain = factories.api_key(db.session, name, revoked=revoked)
            db.session.commit()
        return plain

    return make


@pytest.fixture
def purchase_for(app):
    """A valid POST /transactions body (1,000,000 of the club's currency by default)."""
    occurred = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    def body(member_id: int, amount: int = 1_000_000, **extra) -> dict:
        return {"member_id": member_id, "amount": amount, "currency": app.config["VAFA_CURRENCY"],
                "occurred_at": occurred, **extra}

    return body
