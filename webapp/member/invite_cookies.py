"""The two cookies behind invite links.

`vafa_dev`: a long-lived random device id, set on /r/<code>, /join and /login.
Only its keyed hash (`referrals.digest`) is ever stored: it counts a device's
opens of a link once, and tells a friend joining from the referrer's own phone.

`vafa_ref`: which link brought the visitor (code + campaign), signed with the
app's secret and timestamped by itsdangerous. The window (`attribution_days`
of the rules) is enforced when it is read (the signature's max_age), not only
by the browser's expiry. Last click wins: opening another link replaces it.

Views queue cookie changes in `g`; one after_request hook writes them, so a
view that returns a template or a redirect needs no response plumbing."""

from __future__ import annotations

import re
import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from webapp.member import bp
from webapp.services import referrals
from webapp.services.referrals import Link

DEVICE_COOKIE = "vafa_dev"
ATTRIBUTION_COOKIE = "vafa_ref"
DEVICE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
_DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_SALT = "vafa-referral-attribution"


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _queue(name: str, value: str | None, max_age: int | None = None) -> None:
    g.setdefault("vafa_cookies", {})[name] = (value, max_age)


def device_visitor() -> str:
    """The hashed device id of this browser; a new id is given when it has none."""
    if "vafa_visitor" not in g:
        raw = request.cookies.get(DEVICE_COOKIE, "")
        if not _DEVICE_RE.match(raw):
            raw = secrets.token_urlsafe(32)
            _queue(DEVICE_COOKIE, raw, DEVICE_AGE)
        g.vafa_visitor = referrals.digest(raw, _secret())
    return g.vafa_visitor


def ip_digest() -> str:
    return referrals.digest(request.remote_addr or "", _secret())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(), salt=_SALT)


def attribute(link: Link, days: int) -> None:
    """Remember the link for `days` (replacing any earlier one: last click wins)."""
    value = _serializer().dumps({"c": link.code, "k": link.campaign})
    _queue(ATTRIBUTION_COOKIE, value, days * 24 * 3600)


def forget_attribution() -> None:
    _queue(ATTRIBUTION_COOKIE, None)


def attributed_link(session: Session, days: int) -> Link | None:
    """The link this browser opened within the last `days`, if it is still active."""
    raw = request.cookies.get(ATTRIBUTION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=days * 24 * 3600)
    except BadSignature:  # tampered, or older than the window (SignatureExpired)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    campaign = data.get("k") if isinstance(data.get("k"), str) else None
    return referrals.resolve(session, data["c"], campaign)


@bp.after_request
def _write_cookies(response):
    secure = current_app.config.get("SESSION_COOKIE_SECURE", True)
    for name, (value, max_age) in g.pop("vafa_cookies", {}).items():
        if value is None:
            response.delete_cookie(name, httponly=True, samesite="Lax", secure=secure)
        else:
            response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Lax", secure=secure)
    return response
