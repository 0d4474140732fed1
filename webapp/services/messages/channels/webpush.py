"""Web push (`VAFA_PUSH_SENDER=webpush`, RFC 8030/8291/8292 through pywebpush):
the message goes, encrypted for each browser (aes128gcm), to every push
subscription of the member, signed with the club's VAPID key.

A 404/410 from a push service means that browser is gone: its subscription is
forgotten (in the worker's transaction, committed with the message's outcome).
A member with no browser left refuses the message (`no_subscription`); 429
(with its Retry-After), 5xx and network errors are retried. When at least one
browser took it the message is sent: retrying would show it twice on the others."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException
from sqlalchemy.orm import Session

from webapp.models import PushSubscription, utcnow
from webapp.services.messages import push_subscriptions, vapid
from webapp.services.messages.channels import Outgoing, Refused, Retry, sender

log = logging.getLogger("vafa.messages")
TTL = 24 * 3600  # seconds a push service keeps a message for a phone that is off
TIMEOUT = (3.05, 10)  # connect, read: a slow push service must not hold the batch
URGENCY = {"essential": "high", "transactional": "high"}  # the rest: "normal"
MAX_PAYLOAD = 3000  # bytes of JSON; push services take 4096 once encrypted
JWT_LIFETIME = 12 * 3600
GONE = (404, 410)


def payload(message: Outgoing) -> bytes:
    """What the service worker shows (static/js/sw.js): title, body, the page a
    tap opens, and a tag naming the outbox row, so a retried delivery replaces
    its first copy on the phone instead of showing twice."""
    def encoded(body: str) -> bytes:
        return json.dumps({"title": message.subject, "body": body, "url": message.url,
                           "tag": f"outbox-{message.id}", "lang": message.locale}, ensure_ascii=False).encode()

    body, data = message.text, encoded(message.text)
    while len(data) > MAX_PAYLOAD and body:  # a long text is cut, not refused
        room = len(body.encode()) - (len(data) - MAX_PAYLOAD) - len("…".encode())
        body = body.encode()[: max(room, 0)].decode(errors="ignore").rstrip()
        data = encoded(body + "…" if body else "")
    return data


@dataclass(frozen=True)
class Answer:
    """What one browser's push service said."""

    outcome: str  # "sent" | "gone" | "retry" | "refused"
    reason: str = ""
    after: float | None = None
    location: str | None = None


class WebPushSender:
    def __init__(self, config: Mapping, session: Session):
        self.session = session
        self.vapid = Vapid02(vapid.private_key(config.get("VAFA_VAPID_PRIVATE_KEY") or ""))
        self.subject = config.get("VAFA_VAPID_SUBJECT") or "mailto:club@localhost"
        self.http = requests.Session()
        self._signed: dict[str, tuple[float, dict]] = {}

    def send(self, message: Outgoing) -> str | None:
        browsers = push_subscriptions.for_member(self.session, _member_id(message.to))
        if not browsers:
            raise Refused("no_subscription")
        data = payload(message)
        headers = {"Urgency": URGENCY.get(message.category, "normal"), "Topic": f"outbox-{message.id}"}
        answers = [(browser, self._push(browser, data, headers)) for browser in browsers]
        for browser, answer in answers:
            if answer.outcome == "gone":
                push_subscriptions.forget(self.session, browser.id)
        sent = [(browser, answer) for browser, answer in answers if answer.outcome == "sent"]
        if sent:
            push_subscriptions.reached(self.session, [browser.id for browser, _ in sent], now=utcnow())
            location = next((answer.location for _, answer in sent if answer.location), None)
            return f"{len(sent)}/{len(browsers)}" + (f" {location}" if location else "")
        later = [answer for _, answer in answers if answer.outcome == "retry"]
        if later:
            afters = [answer.after for answer in later if answer.after is not None]
            raise Retry("; ".join(answer.reason for answer in later)[:300], after=max(afters) if afters else None)
        refused = [answer.reason for _, answer in answers if answer.outcome == "refused"]
        raise Refused("; ".join(refused)[:300] if refused else "no_subscription")

    def _push(self, browser: PushSubscription, data: bytes, headers: dict) -> Answer:
        info = {"endpoint": browser.endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}
        try:
            pusher = WebPusher(info, requests_session=self.http)
            response = pusher.send(data, {**headers, **self._authorization(browser.endpoint)}, ttl=TTL,
                                   content_encoding="aes128gcm", timeout=TIMEOUT)
        except requests.RequestException as exc:  # refused connection, timeout, reset
            return Answer("retry", f"push: {type(exc).__name__}")
        except (WebPushException, ValueError) as exc:  # keys no browser could have made
            log.warning("push subscription %s cannot be encrypted for: %s", browser.id, exc)
            return Answer("gone")
        status = response.status_code
        if 200 <= status < 300:
            return Answer("sent", location=response.headers.get("Location"))
        if status in GONE:
            return Answer("gone")
        reason = f"{status} {response.text[:120]}".strip()
        if status == 429 or status >= 500:
            return Answer("retry", reason, after=retry_after(response.headers.get("Retry-After")))
        return Answer("refused", reason)  # 400 bad request, 401/403 VAPID, 413 too large

    def _authorization(self, endpoint: str) -> dict:
        """`Authorization: vapid t=<JWT>, k=<public key>` for the push service's
        origin; the signed JWT is reused for a while (it lives 12 hours)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        expires, signed = self._signed.get(audience, (0.0, {}))
        if expires - now < 3600:
            expires = int(now) + JWT_LIFETIME
            signed = self.vapid.sign({"sub": self.subject, "aud": audience, "exp": expires})
            self._signed[audience] = (expires, signed)
        return signed

    def close(self) -> None:
        self.http.close()


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - utcnow()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def _member_id(to: str) -> int:
    try:
        return int(to)
    except (TypeError, ValueError):
        raise Refused("no_subscription") from None


@sender("push", "webpush")
def make(config: Mapping) -> WebPushSender:
    # the worker's own session: forgetting a gone browser commits with the
    # message's outcome (webapp.jobs.messages commits once per message)
    from webapp.extensions import db

    return WebPushSender(config, db.session)
