"""The e-mail around a worded message: an HTML part and a plain-text part from
`templates/email/`, in the member's language and direction, the body escaped and
split into paragraphs, a button for the message's link, and a footer naming the
club (with the unsubscribe link on news and offers). Rendered by the worker in
its app context; nothing here reads a request."""

from __future__ import annotations

import re
from dataclasses import replace

from flask import render_template
from flask_babel import force_locale

from webapp.i18n import text_direction
from webapp.services.messages.channels import Outgoing

URL = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]])")
FONTS = {"fa": "Vazirmatn, Tahoma, 'Segoe UI', Arial, sans-serif", "en": "'Segoe UI', Arial, Helvetica, sans-serif"}


def paragraphs(text: str) -> list[list[list[tuple[str, bool]]]]:
    """Blank lines part paragraphs, single newlines part lines; each line is
    pieces of (text, is a web address) so the template can link addresses."""
    blocks = [b for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if b.strip()]
    return [[_pieces(line) for line in block.split("\n")] for block in blocks]


def _pieces(line: str) -> list[tuple[str, bool]]:
    return [(part, index % 2 == 1) for index, part in enumerate(URL.split(line)) if part]


def dress(message: Outgoing, *, club: str, pixel_url: str | None = None) -> Outgoing:
    """The message with its HTML part and its plain text in the layout."""
    direction = text_direction(message.locale)
    context = {
        "message": message, "subject": message.subject, "body": message.text,
        "paragraphs": paragraphs(message.text), "url": message.url, "kind": message.kind,
        "club": club, "unsubscribe_url": message.unsubscribe_url, "pixel_url": pixel_url,
        "locale": message.locale, "text_dir": direction, "font": FONTS.get(message.locale, FONTS["en"]),
        "start": "right" if direction == "rtl" else "left",
        "news": message.category in ("notice", "marketing"),
    }
    with force_locale(message.locale):
        html = render_template("email/message.html", **context)
        text = render_template("email/message.txt", **context)
    return replace(message, html=html, text=text.strip() + "\n")
