"""Links in messages: absolute (a worker has no request) and, where a link acts
for a member (unsubscribe, open and click tracking), signed with the app's secret
so it cannot be forged for someone else."""

from __future__ import annotations

from collections.abc import Mapping

from itsdangerous import BadSignature, URLSafeSerializer


def absolute(config: Mapping, path: str) -> str:
    return config.get("VAFA_PUBLIC_URL", "").rstrip("/") + path


def sign(config: Mapping, purpose: str, payload) -> str:
    return URLSafeSerializer(config["SECRET_KEY"], salt=f"vafa.messages.{purpose}").dumps(payload)


def unsign(config: Mapping, purpose: str, token: str):
    """The payload of a token signed for `purpose`, or None when forged or for
    another purpose."""
    try:
        return URLSafeSerializer(config["SECRET_KEY"], salt=f"vafa.messages.{purpose}").loads(token)
    except BadSignature:
        return None


def unsubscribe_url(config: Mapping, member_id: int, channel: str) -> str:
    return absolute(config, f"/unsubscribe/{sign(config, 'unsubscribe', [member_id, channel])}")


def unsubscribe_target(config: Mapping, token: str) -> tuple[int, str] | None:
    """(member id, channel) of an unsubscribe token, or None when forged."""
    payload = unsign(config, "unsubscribe", token)
    if (isinstance(payload, list) and len(payload) == 2 and _an_id(payload[0])
            and payload[1] in ("email", "sms", "push")):
        return payload[0], payload[1]
    return None


def open_url(config: Mapping, outbox_id: int) -> str:
    """The e-mail's open pixel."""
    return absolute(config, f"/m/o/{sign(config, 'open', outbox_id)}")


def opened_id(config: Mapping, token: str) -> int | None:
    payload = unsign(config, "open", token)
    return payload if _an_id(payload) else None


def click_url(config: Mapping, outbox_id: int, url: str) -> str:
    """`url` through the click redirect, which notes the click on the outbox row."""
    return absolute(config, f"/m/c/{sign(config, 'click', [outbox_id, url])}")


def click_target(config: Mapping, token: str) -> tuple[int, str] | None:
    """(outbox id, url) of a click token, or None when forged or altered: the
    redirect only ever leads where we signed it to."""
    payload = unsign(config, "click", token)
    if (isinstance(payload, list) and len(payload) == 2 and _an_id(payload[0])
            and isinstance(payload[1], str) and payload[1].startswith(("https://", "http://"))):
        return payload[0], payload[1]
    return None


def _an_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
