"""Choices several forms offer."""

from __future__ import annotations

from wtforms import SelectChoice

from webapp.i18n import LOCALES

LOCALE_NAMES = {"fa": "فارسی", "en": "English"}  # each language in its own script


def locale_choices(*first: SelectChoice) -> list[SelectChoice]:
    """The club's languages, each named in its own script, after `first` (e.g. "Any")."""
    return [*first, *(SelectChoice(code, LOCALE_NAMES[code]) for code in LOCALES)]
