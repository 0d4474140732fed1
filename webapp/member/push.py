"""Web push for members: the service worker at /sw.js (scope /), and the
"Notifications on this device" control on /me/settings (static/js/push.js),
which posts the browser's subscription here as JSON with the CSRF header.
Answers are JSON; refusals `{"error": {"code", "message"}}`."""

from __future__ import annotations

import hashlib

from flask import current_app, jsonify, request, send_from_directory

from webapp.auth import current_member
from webapp.extensions import db, limiter
from webapp.member import bp
from webapp.models import utcnow
from webapp.services.messages import push_subscriptions, vapid
from webapp.services.messages.push_subscriptions import BadSubscription
from webapp.transaction import commits


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@bp.get("/sw.js")
def service_worker():
    # at the root, so its scope is the whole site; browsers recheck it on each
    # visit anyway, no-cache makes the HTTP cache agree
    response = send_from_directory(current_app.static_folder, "js/sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/me/push/subscribe")
@limiter.limit("30 per hour")
@commits
def push_subscribe():
    member = current_member()
    if member is None:
        return _error(401, "unauthorized", "Sign in first.")
    try:
        browser = push_subscriptions.check_subscription(
            request.get_json(silent=True), allow_http=current_app.config.get("VAFA_PUSH_ALLOW_HTTP", False))
    except BadSubscription as exc:
        return _error(exc.status, exc.code, exc.message)
    push_subscriptions.subscribe(db.session, member, browser, user_agent=request.user_agent.string, now=utcnow())
    return jsonify({"subscribed": True}), 201


@bp.post("/me/push/unsubscribe")
@commits
def push_unsubscribe():
    member = current_member()
    if member is None:
        return _error(401, "unauthorized", "Sign in first.")
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return _error(400, "invalid_endpoint", "endpoint: the subscription's URL.")
    if not push_subscriptions.unsubscribe(db.session, member, endpoint):
        return _error(404, "not_found", "No such subscription of yours.")
    return jsonify({"subscribed": False})


def endpoint_mark(endpoint: str) -> str:
    """How the page recognises this browser's subscription among the member's
    without the endpoints themselves in the page (static/js/push.js hashes too)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()


@bp.app_template_global()
def push_control() -> dict:
    """What the settings page's notifications control needs."""
    try:
        key = vapid.application_server_key(current_app.config.get("VAFA_VAPID_PRIVATE_KEY") or "")
    except ValueError:
        current_app.logger.exception("VAFA_VAPID_PRIVATE_KEY is not a usable P-256 key: no web push")
        key = ""
    member = current_member()
    # a member who unsubscribed from push (the link in a message) sees "off" here too
    mine = push_subscriptions.for_member(db.session, member.id) if member and member.consent_push else []
    return {"key": key, "mine": " ".join(endpoint_mark(s.endpoint) for s in mine)}
