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
