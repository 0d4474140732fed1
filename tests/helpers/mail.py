"""A real SMTP server on a free local port (aiosmtpd), keeping what arrives.
Tests point `SMTP_HOST`/`SMTP_PORT` at it and read `messages`."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Keeper:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _options):
        if self.server.refuse_rcpt:
            return self.server.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(parsed)
        return "250 Message accepted"


class MailServer:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse_rcpt: str | None = None  # e.g. "550 no such user" or "451 try later"
        self.port = free_port()
        self.controller = Controller(_Keeper(self), hostname="127.0.0.1", port=self.port)

    def config(self) -> dict:
        return {"VAFA_MAIL_SENDER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port,
                "SMTP_TLS": "none", "SMTP_USER": "", "VAFA_MAIL_FROM": "club@vafa.test"}

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
