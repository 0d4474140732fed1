"""SMS over HTTP (`VAFA_SMS_SENDER`): the generic `http` sender of the DESIGN
contract and `kavenegar`, a provider Iranian businesses use; plus the segment
count that decides what a message costs (`count_segments`).

Both senders wait at most `VAFA_SMS_TIMEOUT` seconds (10 by default): a hanging
provider only delays the worker, and the message is retried."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from webapp.services.messages.channels import Outgoing, Refused, Retry, sender

TIMEOUT = 10.0
MAX_ANSWER = 64 * 1024
LONGEST_WAIT = 3600.0  # a Retry-After beyond an hour is read as an hour

# GSM 03.38: the basic table (one septet each; ESC left out) and the extension
# table, whose characters take an escape septet too
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
SINGLE = {"gsm7": 160, "ucs2": 70}
PART = {"gsm7": 153, "ucs2": 67}  # a long message's parts lose room to the joining header


@dataclass(frozen=True)
class Segments:
    encoding: str  # "gsm7" | "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def count_segments(text: str) -> Segments:
    """How many SMS `text` takes. GSM-7 when every character is in its tables
    (extension characters count two), else UCS-2 in UTF-16 code units (Persian,
    emoji: a surrogate pair counts two). A part never splits an escape pair or a
    surrogate pair, so a long message may need one part more than units ÷ room."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        encoding, sizes = "gsm7", [2 if ch in GSM_EXTENSION else 1 for ch in text]
    else:
        encoding, sizes = "ucs2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(sizes)
    if units <= SINGLE[encoding]:
        return Segments(encoding, units, 1)
    room, count, used = PART[encoding], 1, 0
    for size in sizes:
        if used + size > room:
            count, used = count + 1, 0
        used += size
    return Segments(encoding, units, count)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping
    body: bytes

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def post(url: str, body: bytes, headers: dict, timeout: float) -> Answer:
    """POST and read the answer, whatever its status; a timeout or a connection
    that cannot be made is a Retry (never naming the URL, which may hold a key)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310  (http(s) checked in _base_url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, response.headers, response.read(MAX_ANSWER))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.headers, exc.read(MAX_ANSWER))
    except urllib.error.URLError as exc:
        raise Retry(f"sms: cannot reach the provider ({exc.reason})"[:300]) from None
    except (TimeoutError, OSError) as exc:
        raise Retry(f"sms: no answer in {timeout:g} s ({type(exc).__name__})") from None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), LONGEST_WAIT)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - (now or datetime.now(UTC))).total_seconds(), 0.0), LONGEST_WAIT)


def refuse_or_retry(status: int, headers: Mapping, detail: str) -> None:
    """429 and 5xx may pass (honouring Retry-After); any other failure will not."""
    reason = f"{status} {detail}".strip()[:300]
    if status == 429 or status >= 500:
        raise Retry(reason, after=retry_after(headers.get("Retry-After")))
    raise Refused(reason)


def _base_url(config: Mapping, default: str = "") -> str:
    url = (config.get("VAFA_SMS_URL") or default).strip()
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("VAFA_SMS_URL: give the provider's http(s) address")
    return url


def _timeout(config: Mapping) -> float:
    return float(config.get("VAFA_SMS_TIMEOUT") or TIMEOUT)


class HttpSmsSender:
    """The generic contract: POST {"to", "text", "id"} as JSON with a bearer
    token; any 2xx is sent, and a JSON {"id": …} answer is the provider's id."""

    def __init__(self, config: Mapping):
        self.url = _base_url(config)
        self.token = config.get("VAFA_SMS_TOKEN") or ""
        self.timeout = _timeout(config)

    def send(self, message: Outgoing) -> str | None:
        body = json.dumps({"to": message.to, "text": message.text, "id": str(message.id)}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer = post(self.url, body, headers, self.timeout)
        if not 200 <= answer.status < 300:
            refuse_or_retry(answer.status, answer.headers, answer.body[:200].decode(errors="replace"))
        found = answer.json()
        provider_id = found.get("id") if isinstance(found, dict) else None
        return None if provider_id in (None, "") else str(provider_id)

    def close(self) -> None:
        pass


# https://api.kavenegar.com/v1/{API-KEY}/sms/send.json, as Kavenegar's own
# Python client calls it; VAFA_SMS_URL replaces the base (tests, a proxy)
KAVENEGAR_URL = "https://api.kavenegar.com/v1"
# return.status codes that may pass: the server not ready (409), the account's
# credit spent (418, the owner tops it up); other non-200 codes will not
KAVENEGAR_RETRY = (409, 418, 429)


def kavenegar_receptor(e164: str) -> str:
    """Kavenegar's examples write Iranian numbers 09…; others keep the 00 prefix."""
    if e164.startswith("+98"):
        return "0" + e164[3:]
    return "00" + e164[1:] if e164.startswith("+") else e164


class KavenegarSender:
    """sms/send.json: form fields receptor, message, sender (the club's line,
    `VAFA_SMS_FROM`) and localid (our id); the API key (`VAFA_SMS_TOKEN`) is in
    the path. The answer: {"return": {"status", "message"}, "entries":
    [{"messageid", …}]}."""

    def __init__(self, config: Mapping):
        key = config.get("VAFA_SMS_TOKEN") or ""
        if not key:
            raise ValueError("VAFA_SMS_TOKEN: the Kavenegar API key is needed")
        base = _base_url(config, KAVENEGAR_URL).rstrip("/")
        self.url = f"{base}/{urllib.parse.quote(key, safe='')}/sms/send.json"
        self.line = config.get("VAFA_SMS_FROM") or ""
        self.timeout = _timeout(config)

    def send(self, message: Outgoing) -> str | None:
        fields = {"receptor": kavenegar_receptor(message.to), "message": message.text,
                  "localid": str(message.id)}
        if self.line:
            fields["sender"] = self.line
        answer = post(self.url, urllib.parse.urlencode(fields).encode(), {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json"}, self.timeout)
        found = answer.json()
        outcome = found.get("return") if isinstance(found, dict) else None
        if not isinstance(outcome, dict):  # a proxy's error page, not Kavenegar's JSON
            refuse_or_retry(answer.status if answer.status >= 300 else 502, answer.headers, "no JSON answer")
        status = int(outcome.get("status") or answer.status)
        if status != 200:
            detail = f"kavenegar: {outcome.get('message') or ''}"
            if status in KAVENEGAR_RETRY or status >= 500:
                raise Retry(f"{status} {detail}"[:300], after=retry_after(answer.headers.get("Retry-After")))
            raise Refused(f"{status} {detail}"[:300])
        entries = found.get("entries") or [{}]
        provider_id = entries[0].get("messageid") if isinstance(entries[0], dict) else None
        return None if provider_id is None else str(provider_id)

    def close(self) -> None:
        pass


sender("sms", "http")(HttpSmsSender)
sender("sms", "kavenegar")(KavenegarSender)
