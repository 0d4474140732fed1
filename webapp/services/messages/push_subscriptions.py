"""Members' web push subscriptions: the browsers they turned notifications on
in. A browser's endpoint is unique: subscribing upserts by it, and an endpoint
a second member subscribes with in the same browser moves to them. A member only
ever touches their own; the worker forgets what the push service says is gone."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, PushSubscription
from webapp.services.errors import DomainError
from webapp.services.messages.vapid import b64url, b64url_decode

MAX_ENDPOINT = 1024
MAX_DEVICES = 10  # a member's newest browsers; older ones are forgotten
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16
LOOPBACK_NAMES = ("localhost",)


class BadSubscription(DomainError):
    """This push subscription is not valid."""

    code = "invalid_subscription"
    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Browser:
    """A checked subscription: the endpoint and its keys (unpadded base64url)."""

    endpoint: str
    p256dh: str
    auth: str


def check_subscription(data: object, *, allow_http: bool = False) -> Browser:
    """`PushSubscription.toJSON()` as the browser sent it: `{endpoint, keys:
    {p256dh, auth}}`. The endpoint is https (http only on loopback when
    `allow_http`: a local test push service) and not a private address; the
    keys are a P-256 point and a 16-byte secret."""
    if not isinstance(data, Mapping):
        raise BadSubscription("invalid_subscription", "Send a JSON object {endpoint, keys: {p256dh, auth}}.")
    keys = data.get("keys")
    if not isinstance(keys, Mapping):
        raise BadSubscription("invalid_keys", "keys: {p256dh, auth} is missing.")
    endpoint = check_endpoint(data.get("endpoint"), allow_http=allow_http)
    return Browser(endpoint, *check_keys(keys.get("p256dh"), keys.get("auth")))


def check_endpoint(endpoint: object, *, allow_http: bool = False) -> str:
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise BadSubscription("invalid_endpoint", f"endpoint: a URL of at most {MAX_ENDPOINT} characters.")
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise BadSubscription("invalid_endpoint", "endpoint: not a URL.") from None
    loopback = host in LOOPBACK_NAMES or _is_ip(host, "is_loopback")
    if parts.scheme == "https" and host and not loopback and not _is_ip(host, "is_private", "is_link_local",
                                                                         "is_reserved", "is_unspecified"):
        return endpoint
    if parts.scheme == "http" and allow_http and loopback:
        return endpoint
    raise BadSubscription("invalid_endpoint", "endpoint: the push service's https URL.")


def _is_ip(host: str, *properties: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(getattr(address, name) for name in properties)


def check_keys(p256dh: object, auth: object) -> tuple[str, str]:
    point, secret = _decoded(p256dh), _decoded(auth)
    if point is None or len(point) != P256DH_BYTES or point[0] != 4:
        raise BadSubscription("invalid_keys", "keys.p256dh: base64url of a 65-byte P-256 public key.")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise BadSubscription("invalid_keys", "keys.p256dh: not a point on P-256.") from None
    if secret is None or len(secret) != AUTH_BYTES:
        raise BadSubscription("invalid_keys", f"keys.auth: base64url of {AUTH_BYTES} bytes.")
    return b64url(point), b64url(secret)


def _decoded(value: object) -> bytes | None:
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        return b64url_decode(value)
    except ValueError:
        return None


def subscribe(session: Session, member: Member, browser: Browser, *, user_agent: str | None,
              now: datetime) -> None:
    """Keep this browser for the member (whoever had it before) and take it as
    their consent to push messages."""
    values = {"member_id": member.id, "p256dh": browser.p256dh, "auth": browser.auth,
              "user_agent": (user_agent or "")[:255] or None}
    insert = insert_ignoring_duplicates(session, PushSubscription).values(
        endpoint=browser.endpoint, created_at=now, **values)
    session.execute(insert.on_conflict_do_update(index_elements=["endpoint"], set_=values))
    member.consent_push = True
    _keep_newest(session, member.id)


def _keep_newest(session: Session, member_id: int) -> None:
    newest = (select(PushSubscription.id).where(PushSubscription.member_id == member_id)
              .order_by(func.coalesce(PushSubscription.last_success_at, PushSubscription.created_at).desc(),
                        PushSubscription.id.desc()).limit(MAX_DEVICES))
    session.execute(delete(PushSubscription).where(
        PushSubscription.member_id == member_id, PushSubscription.id.not_in(newest.scalar_subquery())
    ).execution_options(synchronize_session=False))


def unsubscribe(session: Session, member: Member, endpoint: str) -> bool:
    """Forget this browser if it is the member's; with none left the member no
    longer consents to push. False when it was not theirs (or not known)."""
    gone = session.execute(delete(PushSubscription).where(
        PushSubscription.member_id == member.id, PushSubscription.endpoint == endpoint,
    ).execution_options(synchronize_session=False)).rowcount
    if gone and not session.scalar(select(func.count(PushSubscription.id)).where(PushSubscription.member_id == member.id)):
        member.consent_push = False
    return bool(gone)


def for_member(session: Session, member_id: int) -> list[PushSubscription]:
    return list(session.scalars(select(PushSubscription).where(PushSubscription.member_id == member_id)
                                .order_by(PushSubscription.id)))


def forget(session: Session, subscription_id: int) -> None:
    """The push service said this browser is gone (404/410)."""
    session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id)
                    .execution_options(synchronize_session=False))


def reached(session: Session, subscription_ids: list[int], *, now: datetime) -> None:
    if subscription_ids:
        session.execute(update(PushSubscription).where(PushSubscription.id.in_(subscription_ids))
                        .values(last_success_at=now).execution_options(synchronize_session=False))
