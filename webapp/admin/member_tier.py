"""The tier card on a staff member's view of a member: level, progress,
history and the override form (posted to `admin.tiers`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from webapp.admin.tier_forms import METRIC_LABELS, OVERRIDE_END, TierOverrideForm
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.days import day_start
from webapp.models import Member, utcnow
from webapp.services import tiers as tiers_service
from webapp.services.tiers import rules as tier_rules

OVERRIDE_PREFIX = "override"  # its fields must not share ids with the adjust forms
HISTORY_REASONS = {
    "upgrade": _l("Upgrade"),
    "downgrade": _l("Downgrade"),
    "at_risk": _l("At risk"),
    "override": _l("Staff override"),
    "override_end": _l("Override ended"),
    "program_change": _l("Program change"),
}


def override_choices(program: tier_rules.Program, locale: str) -> list[SelectChoice]:
    return [SelectChoice(OVERRIDE_END, _("No override (end it)"))] + [
        SelectChoice(lv.code, lv.name(locale)) for lv in program.levels]


def member_tier_context(member: Member, *, locale: str, override_form=None) -> dict:
    """What the tier card on the member page shows (a fixed number of queries)."""
    program = tiers_service.load_program(db.session)
    if program is None:
        return {"tier": None}
    now = utcnow()
    by_id = {lv.id: lv for lv in program.levels if lv.id is not None}
    card = {
        "program": program,
        "level": tiers_service.member_level(db.session, member, program),
        "progress": tiers_service.member_progress(db.session, member, now),
        "override": by_id.get(member.tier_override_id)
        if member.tier_override_id and (member.tier_override_until is None
                                        or member.tier_override_until > now) else None,
        "history": tiers_service.member_history(db.session, member.id, limit=20),
        "levels_by_id": by_id,
        "reasons": HISTORY_REASONS,
        "metric_label": METRIC_LABELS.get(program.metric, program.metric),
    }
    if program.allow_overrides and current_user.can("adjust"):
        form = override_form or TierOverrideForm(formdata=None, prefix=OVERRIDE_PREFIX)
        form.tier.choices = override_choices(program, locale)
        card["override_form"] = form
    return {"tier": card}


def end_of_local_day(day) -> datetime:
    """An override "until" a day lasts through that day in the club's time zone."""
    return day_start(day + timedelta(days=1), current_club().timezone)
