"""Channel senders behind one interface. Each channel (`email`, `sms`, `push`)
has senders chosen by configuration (`VAFA_MAIL_SENDER`, `VAFA_SMS_SENDER`,
`VAFA_PUSH_SENDER`); a sender module registers its factories with `sender`.

A sender's `send(outgoing)` returns the provider's message id (or None) when the
provider took the message, raises `Retry` for what may pass (a timeout, 429,
5xx) and `Refused` for what will not (a rejected address, 4xx)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from webapp.models import Member

CONFIG_KEYS = {"email": "VAFA_MAIL_SENDER", "sms": "VAFA_SMS_SENDER", "push": "VAFA_PUSH_SENDER"}


@dataclass(frozen=True)
class Outgoing:
    """One worded message, ready for a sender."""

    id: int  # the outbox row: providers get it as our message id
    channel: str
    kind: str
    category: str
    member_id: int
    to: str  # e-mail address, E.164 mobile, or the member id for push
    locale: str
    subject: str
    text: str
    html: str | None = None
    url: str | None = None  # where a tap leads (absolute)
    unsubscribe_url: str | None = None  # marketing and notices: one click (RFC 8058)


class Retry(Exception):
    """The provider may take it later; `after` seconds when it said so."""

    def __init__(self, reason: str, after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Refused(Exception):
    """The provider will never take this message."""


class Sender(Protocol):
    def send(self, message: Outgoing) -> str | None: ...

    def close(self) -> None: ...


Factory = Callable[[Mapping], Sender]
_FACTORIES: dict[tuple[str, str], Factory] = {}


def sender(channel: str, name: str) -> Callable[[Factory], Factory]:
    """Register a factory: `@sender("sms", "http")` on `def make(config)`."""

    def register(factory: Factory) -> Factory:
        _FACTORIES[(channel, name)] = factory
        return factory

    return register


def sender_names(channel: str) -> list[str]:
    _load_all()
    return sorted(name for (c, name) in _FACTORIES if c == channel)


def open_sender(channel: str, config: Mapping) -> Sender:
    """The configured sender of `channel` (`console` when none is set)."""
    _load_all()
    name = config.get(CONFIG_KEYS[channel]) or "console"
    try:
        return _FACTORIES[(channel, name)](config)
    except KeyError:
        raise LookupError(f"{CONFIG_KEYS[channel]}={name!r}: no such {channel} sender "
                          f"(known: {', '.join(sender_names(channel))})") from None


# the member's own address on each channel; push finds its subscriptions by member
ADDRESS: dict[str, Callable[[Member], str | None]] = {
    "email": lambda m: m.email,
    "sms": lambda m: m.mobile,
    "push": lambda m: str(m.id),
}


def _load_all() -> None:
    # the sender modules register themselves on import
    from webapp.services.messages.channels import console, email, sms, webpush  # noqa: F401
