"""An app context for jobs without building an app at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def use_app(app: Flask) -> None:
    """The worker command hands over the app it already built."""
    global _app
    _app = app


@contextmanager
def job_app() -> Iterator[Flask]:
    if has_app_context():
        yield current_app._get_current_object()
        return
    global _app
    if _app is None:
        from webapp import create_app

        _app = create_app()
    with _app.app_context():
        yield _app
