"""What a POST body must be: JSON, small, well-formed."""

import io
import json

import pytest
from sqlalchemy import func, select

from webapp.models import ApiIdempotency, Member


def _post(client, api_key, data, content_type="application/json", **kwargs):
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": "body-test"}
    headers.update(kwargs.pop("headers", {}))
    return client.post("/api/v1/members", data=data, content_type=content_type, headers=headers, **kwargs)


def _code(response):
    return response.get_json()["error"]["code"]


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "text/json", "application/jsonp", None],
)
def test_only_json_bodies_are_accepted(client, api_key, content_type, session):
    response = _post(client, api_key, '{"email": "a@example.com"}', content_type=content_type)
    assert response.status_code == 415
    assert _code(response) == "unsupported_media_type"
    assert session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_form_post_is_refused_not_read(client, api_key):
    response = client.post("/api/v1/members", data={"email": "a@example.com"},
                           headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "f"})
    assert response.status_code == 415


def test_an_oversized_body_is_413(app, client, api_key):
    padding = "x" * app.config["API_MAX_BODY"]
    response = _post(client, api_key, json.dumps({"email": "a@example.com", "display_name": padding}))
    assert response.status_code == 413
    assert _code(response) == "body_too_large"


def test_an_oversized_chunked_body_is_413(app, client, api_key):
    """No Content-Length (chunked transfer): the cap is enforced while reading."""
    body = json.dumps({"email": "a@example.com", "display_name": "x" * app.config["API_MAX_BODY"]}).encode()
    response = _post(client, api_key, None, input_stream=io.BytesIO(body),
                     headers={"Transfer-Encoding": "chunked"},
                     environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert _code(response) == "body_too_large"


def test_a_chunked_body_under_the_cap_is_read(client, api_key):
    body = json.dumps({"email": "chunked@example.com"}).encode()
    response = _post(client, api_key, None, input_stream=io.BytesIO(body),
                     headers={"Transfer-Encoding": "chunked"},
                     environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 201


def test_a_body_just_under_the_cap_is_fine(app, client, api_key):
    """The cap is on bytes: whitespace counts, and a body at the cap is read whole."""
    payload = json.dumps({"email": "edge@example.com"})
    data = payload + " " * (app.config["API_MAX_BODY"] - len(payload))
    assert _post(client, api_key, data).status_code == 201


@pytest.mark.parametrize(
    "data",
    [
        "{", "", "not json", '{"email": "a@example.com",}', "{'email': 'a@example.com'}",
        '{"amount": NaN}', '{"amount": Infinity}', '{"email": "a@example.com", "email": "b@example.com"}',
        "[" * 20_000 + "]" * 20_000, '{"n": ' + "9" * 5000 + "}",
        b'{"email": "\xff\xfe@example.com"}',
    ],
    ids=["open", "empty", "text", "trailing-comma", "single-quotes", "nan", "infinity",
         "duplicate-name", "deep-nesting", "huge-integer", "not-utf8"],
)
def test_malformed_json_is_400(client, api_key, data, session):
    response = _post(client, api_key, data)
    assert response.status_code == 400
    assert _code(response) == "invalid_json"
    assert session.scalar(select(func.count()).select_from(ApiIdempotency)) == 0


def test_non_ascii_json_is_read_as_utf8(client, api_key):
    response = _post(client, api_key, json.dumps({"email": "a@example.com", "display_name": "سارا"},
                                                 ensure_ascii=False).encode())
    assert response.status_code == 201
    assert response.get_json()["display_name"] == "سارا"
