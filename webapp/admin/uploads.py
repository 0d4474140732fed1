"""Storing a picture a staff member uploads: judged by its content (never by
its file name or the browser's content type), at most 1 MB, random name."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from webapp.uploads import uploads_dir

MAX_IMAGE = 1024 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def image_type(head: bytes) -> str | None:
    for magic, ext in IMAGE_TYPES.items():
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None


def has_upload(field) -> bool:
    return bool(field.data and getattr(field.data, "filename", ""))


def store_image(field, kind: str) -> str | None:
    """Save the file uploaded in `field` under a random name and return it, or
    put the reason on the field and return None."""
    content = field.data.read(MAX_IMAGE + 1)
    if len(content) > MAX_IMAGE:
        field.errors = [*field.errors, _("The picture is larger than 1 MB.")]
        return None
    ext = image_type(content[:16])
    if ext is None:
        field.errors = [*field.errors, _("Upload a PNG, JPEG or WebP picture.")]
        return None
    folder = uploads_dir(kind)
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ext
    (folder / name).write_bytes(content)
    return name


def discard_image(name: str | None, kind: str) -> None:
    """Remove a picture stored for a save that was then refused."""
    if name:
        (uploads_dir(kind) / name).unlink(missing_ok=True)
