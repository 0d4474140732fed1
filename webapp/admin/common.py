"""Small helpers shared by the staff views."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from webapp.admin.forms import domain_message
from webapp.services.audit import Actor


def staff_actor() -> Actor:
    return Actor.of_staff(current_user._get_current_object(), ip=request.remote_addr)


def wants_fragment(target: str | None = None) -> bool:
    """An htmx request for part of a page (not a history restore, which needs it all)."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def page_or_fragment(template: str, block: str, *, target: str | None = None, **context) -> str:
    if wants_fragment(target):
        return render_block(template, block, **context)
    return render_template(template, **context)


def form_error(form, exc, field: str | None = None) -> None:
    """Show a service's domain error on the form (on one field, or above it)."""
    message = domain_message(exc)
    if field is not None:
        getattr(form, field).errors = [*getattr(form, field).errors, message]
    else:
        form.form_errors.append(message)
