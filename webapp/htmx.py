"""htmx in the views, one way: is this an htmx request, does it want one block
of the page (never on a history restore, which needs the whole page), and
which events the answer fires for the widgets on the page."""

from __future__ import annotations

from flask import render_template
from htmx_flask import request
from jinja2_fragments.flask import render_block

# the points badge and cards listen with hx-trigger="pointsChanged from:body"
POINTS_CHANGED = "pointsChanged"


def is_htmx() -> bool:
    """Sent by htmx (`HX-Request: true`), a history restore included."""
    return bool(request.htmx)


def wants_fragment(target: str | None = None) -> bool:
    """An htmx request for part of a page (aimed at `target`, when given)."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def page_or_fragment(template: str, block: str, *, target: str | None = None, **context) -> str:
    """The template's `block` for an htmx swap, else the whole page."""
    if wants_fragment(target):
        return render_block(template, block, **context)
    return render_template(template, **context)


def event_headers(event: str = POINTS_CHANGED) -> dict[str, str]:
    return {"HX-Trigger": event}


def trigger(response, event: str = POINTS_CHANGED):
    """Fire `event` on the page when htmx swaps `response` in."""
    response.headers.update(event_headers(event))
    return response
