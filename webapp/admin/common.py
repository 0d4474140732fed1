"""Small helpers shared by the staff views."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy import select

from webapp.admin.domain_messages import domain_message
from webapp.club import current_club
from webapp.extensions import db
from webapp.i18n import current_locale, localized
from webapp.models import Reward, Segment
from webapp.services import tiers
from webapp.services.members.audit import Actor


def staff_actor() -> Actor:
    return Actor.of_staff(current_user._get_current_object(), ip=request.remote_addr)


def form_error(form, exc, field: str | None = None) -> None:
    """Show a service's domain error on the form (on one field, or above it)."""
    message = domain_message(exc)
    if field is not None:
        getattr(form, field).errors = [*getattr(form, field).errors, message]
    else:
        form.form_errors.append(message)


def club_tz() -> str:
    return current_club().timezone


def eligibility_choices(form):
    """Fill a form's `set_choices(tiers, segments, rewards)` from the database:
    levels above the entry level, live segments and rewards not archived, as
    (id, label) pairs in the staff member's language. Returns the form."""
    locale = current_locale()
    program = tiers.load_program(db.session)
    levels = [(lv.id, lv.name(locale)) for lv in (program.levels if program else ())
              if lv.id is not None and lv.rank > 0]
    segments = db.session.execute(select(Segment.id, Segment.name).where(Segment.archived_at.is_(None))
                                  .order_by(Segment.name)).all()
    rewards = db.session.execute(select(Reward.id, localized(Reward, "name", locale))
                                 .where(Reward.status != "archived").order_by(Reward.id)).all()
    form.set_choices(levels, segments, rewards)
    return form


def show_problems(form, problems: dict[str, str], *, fields: dict | None = None, words: dict | None = None,
                  default=None) -> None:
    """Put a service's problems (key → message) on the form: on the field the key
    names (through `fields`, else the key itself), in the words `words` has for
    the key, else `default`, else the service's own message. A key with no field
    goes to the form's own errors. The service has the last word on what is valid."""
    for key, message in problems.items():
        field = getattr(form, (fields or {}).get(key, key) or "", None)
        text = str((words or {}).get(key) or default or message)
        if field is not None:
            field.errors = [*field.errors, text]
        else:
            form.form_errors.append(text)
