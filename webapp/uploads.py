"""Pictures staff upload (reward images, quiz question images): stored under
the instance folder with random names, one folder per kind, served publicly."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, send_from_directory

PICTURE_KINDS = ("rewards", "contests")


def uploads_dir(kind: str = "rewards") -> Path:
    if kind not in PICTURE_KINDS:
        raise ValueError(f"unknown picture kind {kind!r}")
    base = current_app.config.get("VAFA_INSTANCE") or current_app.instance_path
    return Path(base) / "uploads" / kind


def send_picture(kind: str, name: str):
    """A stored picture; names are random, so a week of caching is safe."""
    response = send_from_directory(uploads_dir(kind), name, max_age=7 * 24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
