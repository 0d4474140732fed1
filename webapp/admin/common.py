"""Small helpers shared by the staff views."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.i18n import current_locale, localized
from webapp.models import Reward, Segment
from webapp.services import tiers
from webapp.services.members.audit import Actor


def staff_actor() -> Actor:
    return Actor.of_staff(current_user._get_current_object(), ip=request.remote_addr)


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
