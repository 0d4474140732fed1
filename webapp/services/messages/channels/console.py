"""The embedded default: every channel prints what it would send to the worker's
log, so `make run` shows sign-in codes and resets without a provider."""

from __future__ import annotations

import logging

from webapp.services.messages.channels import Outgoing, sender

log = logging.getLogger("vafa.messages")


class ConsoleSender:
    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: Outgoing) -> str | None:
        log.warning("[%s to %s] %s\n%s%s", self.channel, message.to, message.subject, message.text,
                    f"\n{message.url}" if message.url else "")
        return f"console-{message.id}"

    def close(self) -> None:
        pass


for _channel in ("email", "sms", "push"):
    sender(_channel, "console")(lambda _config, channel=_channel: ConsoleSender(channel))
