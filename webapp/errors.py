"""Error pages for people, JSON errors for the API. Never a bare 500 for bad input."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/hooks/"))  # machines: the API and providers' callbacks


def api_error(status: int, code: str, message: str, **details):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited", 500: "server_error",
}


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        message = _("Your form expired or came from another site. Please try again.")
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        if exc.response is not None:  # the view already worded it (a rate limit's on_breach page)
            return exc.response
        if wants_json():
            message = exc.description if status != 429 else "Too many requests; slow down."
            return api_error(status, _CODES.get(status, "error"), message)
        messages = {
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            413: _("What you sent is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        message = messages.get(status, exc.description or "")
        response = render_template("errors/error.html", status=status, message=message)
        return response, status

    @app.errorhandler(500)
    def _server_error(exc):
        if wants_json():
            return api_error(500, "server_error", "Something went wrong on our side.")
        message = _("Something went wrong on our side. Nothing you saved was lost.")
        return render_template("errors/error.html", status=500, message=message), 500
