"""Reading a POST body: JSON only, size-capped, parsed strictly."""

from __future__ import annotations

import json

from flask import current_app, request

from webapp.api.responses import ApiError


def read_json_body() -> object:
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as 'Content-Type: application/json'.")
    limit = current_app.config["API_MAX_BODY"]
    too_large = ApiError(413, "body_too_large", f"The body is larger than {limit} bytes.")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # a chunked body has no Content-Length: read one byte past the cap to tell
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise too_large
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    # ValueError covers bad JSON, duplicate names and integers too long to convert;
    # RecursionError absurd nesting
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {_reason(exc)}") from None


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a name appears twice in one object")
    return result


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    return str(exc).splitlines()[0][:200]
