"""Storing a picture a staff member uploads (the checks are `webapp.uploads`'):
judged by its content, at most 1 MB, random name; refusals worded for staff."""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.uploads import (
    IMAGE_TYPES,
    MAX_IMAGE,
    PictureRefused,
    discard_picture,
    image_type,
    save_picture,
)

__all__ = ["IMAGE_TYPES", "MAX_IMAGE", "discard_image", "has_upload", "image_type", "store_image"]


def has_upload(field) -> bool:
    return bool(field.data and getattr(field.data, "filename", ""))


def store_image(field, kind: str) -> str | None:
    """Save the file uploaded in `field` under a random name and return it, or
    put the reason on the field and return None."""
    try:
        return save_picture(field.data, kind)
    except PictureRefused as refused:
        reason = (_("The picture is larger than 1 MB.") if refused.reason == "too_large"
                  else _("Upload a PNG, JPEG or WebP picture."))
        field.errors = [*field.errors, reason]
        return None


def discard_image(name: str | None, kind: str) -> None:
    """Remove a picture stored for a save that was then refused."""
    discard_picture(name, kind)
