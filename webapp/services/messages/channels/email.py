"""E-mail over SMTP (`VAFA_MAIL_SENDER=smtp`): one connection per worker batch,
TLS as `SMTP_TLS` says (`none`, `starttls`, `ssl`), signed in when `SMTP_USER`
is set. A connection the server dropped between two messages is opened again
once; a 4xx answer, a connection that will not come back, or a server refusing
our own sender or login may pass (Retry: the settings can be fixed); a 5xx
answer for the recipient or the message will not (Refused). News and offers carry the
one-click unsubscribe headers of RFC 8058."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from webapp.services.messages.channels import Outgoing, Refused, Retry, sender
from webapp.services.messages.render import DEFAULT_CLUB

PORTS = {"none": 25, "starttls": 587, "ssl": 465}
TIMEOUT = 20


def build(message: Outgoing, *, sender_address: str, sender_name: str = "") -> EmailMessage:
    """The MIME message: plain text, plus HTML when the message has it."""
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, sender_address)) if sender_name else sender_address
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    domain = sender_address.rpartition("@")[2] or "localhost"
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
    mail["X-Vafa-Message"] = str(message.id)
    if message.unsubscribe_url and message.category in ("notice", "marketing"):
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


class SmtpSender:
    def __init__(self, config: Mapping):
        self.host = config.get("SMTP_HOST") or "localhost"
        self.tls = config.get("SMTP_TLS") or "starttls"
        if self.tls not in PORTS:
            raise ValueError(f"SMTP_TLS={self.tls!r}: use none, starttls or ssl")
        self.port = int(config.get("SMTP_PORT") or PORTS[self.tls])
        self.user = config.get("SMTP_USER") or ""
        self.password = config.get("SMTP_PASSWORD") or ""
        self.sender = config.get("VAFA_MAIL_FROM") or "club@localhost"
        self.name = config.get("VAFA_CLUB_NAME") or ""
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls == "ssl":
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
        try:
            if self.tls == "starttls":
                connection.starttls(context=context)
            if self.user:
                connection.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:  # our settings, not the message: it waits
            connection.close()
            raise Retry(f"smtp login refused: {exc.smtp_code}") from None
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: Outgoing) -> str | None:
        name = self.name or DEFAULT_CLUB.get(message.locale, DEFAULT_CLUB["en"])
        mail = build(message, sender_address=self.sender, sender_name=name)
        try:
            self._deliver(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return self._refused_or_retry(code, reply)
        except smtplib.SMTPSenderRefused as exc:  # our address or session (530: TLS or login first)
            self.close()  # is wrong for every message alike: they wait for the settings to be fixed
            raise Retry(f"smtp sender refused: {exc.smtp_code} {exc.smtp_error!r}"[:300]) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            return self._refused_or_retry(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:  # refused connection, timeout, dropped line
            self.close()
            raise Retry(f"smtp: {exc}"[:300]) from None
        return mail["Message-ID"]

    def _deliver(self, mail: EmailMessage) -> None:
        """Send on the batch's connection; one that the server closed since the
        last message (idle timeout, restart) is opened again, once."""
        if self.connection is not None:
            try:
                self.connection.send_message(mail)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()
        self.connection = self._connect()
        self.connection.send_message(mail)

    @staticmethod
    def _refused_or_retry(code: int, reply) -> None:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        if 400 <= code < 500:
            raise Retry(f"{code} {text}"[:300])
        raise Refused(f"{code} {text}"[:300])

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.connection = None


sender("email", "smtp")(SmtpSender)
