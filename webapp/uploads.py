"""Pictures people upload: stored under the instance folder with random names,
one folder per kind. Staff pictures (reward images, quiz question images) are
served publicly; feedback pictures only through views that check who asks.

A picture is judged by its content (never by its file name or the browser's
content type) and is at most 1 MB; `save_picture` refuses the rest with a
reason the caller words (`PictureRefused.reason`)."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app, send_from_directory

PICTURE_KINDS = ("rewards", "contests", "feedback")
MAX_IMAGE = 1024 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


class PictureRefused(ValueError):
    """`reason`: "too_large" or "not_an_image"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def uploads_dir(kind: str = "rewards") -> Path:
    if kind not in PICTURE_KINDS:
        raise ValueError(f"unknown picture kind {kind!r}")
    base = current_app.config.get("VAFA_INSTANCE") or current_app.instance_path
    return Path(base) / "uploads" / kind


def image_type(head: bytes) -> str | None:
    for magic, ext in IMAGE_TYPES.items():
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None


def save_picture(stream, kind: str) -> str:
    """Store an uploaded file (`stream.read`) under a random name and return
    the name, or raise PictureRefused (nothing is written then)."""
    content = stream.read(MAX_IMAGE + 1)
    if len(content) > MAX_IMAGE:
        raise PictureRefused("too_large")
    ext = image_type(content[:16])
    if ext is None:
        raise PictureRefused("not_an_image")
    folder = uploads_dir(kind)
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ext
    (folder / name).write_bytes(content)
    return name


def discard_picture(name: str | None, kind: str) -> None:
    """Remove a picture stored for a save that was then refused."""
    if name:
        (uploads_dir(kind) / name).unlink(missing_ok=True)


def send_picture(kind: str, name: str, *, private: bool = False):
    """A stored picture; names are random, so a week of caching is safe for
    public ones. A private one (feedback) is kept out of shared caches."""
    response = send_from_directory(uploads_dir(kind), name, max_age=0 if private else 7 * 24 * 3600)
    if private:
        response.cache_control.public = False
        response.cache_control.private = True
        response.cache_control.no_store = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
