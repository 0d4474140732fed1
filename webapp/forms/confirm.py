"""The form behind a button that changes something."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""
