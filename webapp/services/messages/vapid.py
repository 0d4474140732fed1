"""The club's VAPID key (RFC 8292): the worker signs each push request with its
private half; browsers subscribe with its public half (the "application server
key"), so a push service only takes messages for them from us."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url_decode(text: str) -> bytes:
    """base64url with or without its padding; ValueError when it is not."""
    text = text.strip()
    if not text or any(c not in B64URL for c in text.rstrip("=")):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@lru_cache(maxsize=4)
def private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The key as configured: PEM, or base64url of the raw 32-byte scalar (what
    web-push tools print) or of DER."""
    if not text:
        raise ValueError("VAFA_VAPID_PRIVATE_KEY is empty")
    if "-----BEGIN" in text:
        # a PEM pasted into one environment line keeps its newlines as "\n"
        key = serialization.load_pem_private_key(text.replace("\\n", "\n").encode(), password=None)
    else:
        raw = b64url_decode(text.replace("\n", ""))
        if len(raw) == 32:
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        else:
            key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the VAPID key must be an EC P-256 private key")
    return key


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point (65 bytes, 0x04 || X || Y)."""
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def application_server_key(text: str) -> str:
    """What `pushManager.subscribe({applicationServerKey})` takes: the public
    key's uncompressed point, base64url."""
    return b64url(public_point(private_key(text).public_key()))
