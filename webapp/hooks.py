"""Machine endpoints that providers call back: no cookies, so no CSRF; each
checks its provider's token and is rate limited."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from webapp.errors import api_error
from webapp.extensions import db, limiter
from webapp.models import utcnow
from webapp.services.messages.reports import REPORTED, record_delivery_report

bp = Blueprint("hooks", __name__)


def _hook_limit() -> str:
    return current_app.config["HOOK_RATE_LIMIT"]


def _bearer_ok(expected: str) -> bool:
    given = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


@bp.post("/hooks/sms/<name>/status")
@limiter.limit(_hook_limit)
def sms_status(name: str):
    """A delivery report: {"id": <provider id>, "status": "delivered"|"failed"},
    with the same bearer token the club's SMS sender uses."""
    config = current_app.config
    if not _bearer_ok(config.get("VAFA_SMS_TOKEN") or ""):
        return api_error(401, "unauthorized", "A valid bearer token is needed.")
    if name != config.get("VAFA_SMS_SENDER"):
        return api_error(404, "not_found", "No such SMS sender here.")
    body = request.get_json(silent=True)
    provider_id = body.get("id") if isinstance(body, dict) else None
    status = body.get("status") if isinstance(body, dict) else None
    if not isinstance(provider_id, (str, int)) or isinstance(provider_id, bool) or status not in REPORTED:
        return api_error(422, "invalid", 'Send {"id": …, "status": "delivered" or "failed"}.')
    row = record_delivery_report(db.session, channel="sms", provider_id=str(provider_id)[:120], status=status,
                                 now=utcnow())
    if row is None:
        db.session.rollback()
        return api_error(404, "not_found", "No message has this id.")
    db.session.commit()
    return jsonify({"id": str(provider_id), "status": row.status})
