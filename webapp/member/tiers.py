"""The member's level: `/me/tier` (every level, where the member stands, their
history) and the words the tier card on `/me` uses. The numbers come from
`services.tiers`; this module only puts them into the member's language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from webapp.auth import current_member, member_required
from webapp.extensions import db
from webapp.i18n import current_locale, format_money, format_number
from webapp.member import bp
from webapp.models import utcnow
from webapp.services import tiers
from webapp.services.tiers import rules

HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
DEFAULT_COLOR, ICONS = rules.DEFAULT_COLOR, rules.ICONS
LEAVING_SHOWN = 3

WINDOWS = {
    "month": _l("this month"),
    "quarter": _l("this quarter"),
    "year": _l("this year"),
}
HISTORY = {
    "upgrade": _l("Moved up to %(to)s"),
    "downgrade": _l("Moved down to %(to)s"),
    "at_risk": _l("%(from)s was at risk"),
    "override": _l("Level set by the club: %(to)s"),
    "override_end": _l("The level set by the club ended: %(to)s"),
    "program_change": _l("The levels changed: %(to)s"),
}


@bp.get("/me/tier")
@member_required
def tier():
    member = current_member()
    program = tiers.load_program(db.session)
    progress = tiers.member_progress(db.session, member, utcnow()) if program else None
    history = tiers.member_history(db.session, member.id) if program else []
    return render_template("member/tier.html", member=member, program=program, progress=progress,
                           history=history, names=level_names(program))


# -- words and numbers for the templates -------------------------------------------


def metric_amount(program: rules.Program, value: int) -> str:
    """An amount of the program's metric: points, money or purchases."""
    value = int(value or 0)
    if program.metric == "spend":
        return format_money(value)
    if program.metric == "purchases":
        return ngettext("%(n)s purchase", "%(n)s purchases", value, n=format_number(value))
    return ngettext("%(n)s point", "%(n)s points", value, n=format_number(value))


def metric_label(program: rules.Program) -> str:
    """What counts, as a label: "Points earned in the last 365 days"."""
    if program.window_kind == "rolling":
        days = format_number(program.window_days)
        words = {
            "spend": _("Spent in the last %(days)s days", days=days),
            "purchases": _("Purchases in the last %(days)s days", days=days),
        }
        return words.get(program.metric) or _("Points earned in the last %(days)s days", days=days)
    period = WINDOWS.get(program.calendar_period or "year", WINDOWS["year"])
    words = {
        "spend": _("Spent %(period)s", period=period),
        "purchases": _("Purchases %(period)s", period=period),
    }
    return words.get(program.metric) or _("Points earned %(period)s", period=period)


def last_moment(when: datetime | None) -> datetime | None:
    """Windows and grace periods end at an instant (often local midnight); the
    member reads the last day that still counts."""
    return when - timedelta(seconds=1) if when else None


def multiplier(bp: int) -> str:
    """Basis points as the member reads a multiplier: 15000 → "×1.5"."""
    return "×" + format_number(_plain(Decimal(int(bp)) / rules.BP))


def percent(bp: int) -> str:
    sign = "٪" if current_locale() == "fa" else "%"
    return format_number(_plain(Decimal(int(bp)) / 100)) + sign


def perk_words(level: rules.Level | None) -> list[str]:
    """The machine-readable perks of a level, in the member's words."""
    if level is None:
        return []
    perks = level.perks or {}
    words = []
    if perks.get("free_shipping"):
        words.append(_("Free shipping"))
    tickets = _int(perks.get("extra_raffle_tickets"))
    if tickets > 0:
        words.append(ngettext("%(n)s extra ticket in every raffle", "%(n)s extra tickets in every raffle",
                              tickets, n=format_number(tickets)))
    rebate = _int(perks.get("fee_rebate_bp"))
    if rebate > 0:
        words.append(_("%(rate)s of your fees back as points", rate=percent(rebate)))
    if perks.get("rewards_unlocked"):
        words.append(_("Members-only rewards"))
    return words


def benefit_words(level: rules.Level | None) -> list[str]:
    if level is None:
        return []
    locale = current_locale()
    words = []
    for benefit in level.benefits or ():
        if isinstance(benefit, dict):
            text = benefit.get(locale) or benefit.get("fa") or benefit.get("en")
            if text:
                words.append(str(text))
    return words


def next_level_gains(progress: rules.Progress) -> list[str]:
    """What moving up adds: a better multiplier, then the next level's benefits the
    member does not have yet. Staff describe perks in the benefits; a level with no
    benefit text falls back to its perks in words."""
    if progress.next is None:
        return []
    gains = []
    if progress.multiplier_gain_bp > 0:
        gains.append(_("Earn %(new)s points instead of %(old)s",
                       new=multiplier(progress.next.earn_multiplier_bp),
                       old=multiplier(progress.current.earn_multiplier_bp)))
    words, held = benefit_words(progress.next), benefit_words(progress.current)
    if not words:
        words, held = perk_words(progress.next), perk_words(progress.current)
    return gains + [w for w in words if w not in held]


def tier_color(level: rules.Level | None) -> str:
    color = getattr(level, "color", "") or ""
    return color if HEX_COLOR.fullmatch(color) else DEFAULT_COLOR


def tier_icon(level: rules.Level | None) -> str:
    icon = getattr(level, "icon", "") or ""
    return icon if icon in ICONS else "medal"


def progress_step(percent_done: int) -> int:
    """Bar widths come from CSS classes in steps of 5 (the CSP forbids inline styles)."""
    return max(0, min(100, int(percent_done))) // 5 * 5


def level_names(program: rules.Program | None) -> dict:
    """Level id and code → the level, to name levels in history and messages."""
    if program is None:
        return {}
    names = {}
    for level in program.levels:
        names[level.code] = level
        if level.id is not None:
            names[level.id] = level
    return names


def level_name(names: dict, key) -> str:
    level = names.get(key)
    if level is not None:
        return level.name(current_locale())
    return str(key) if key else _("no level")


def history_text(row, names: dict) -> str:
    template = HISTORY.get(row.reason, _l("Level change: %(to)s"))
    before = level_name(names, row.from_tier_id or row.to_tier_id)
    after = level_name(names, row.to_tier_id or row.from_tier_id)
    return str(template) % {"from": before, "to": after}


def _plain(value: Decimal) -> int | Decimal:
    """1.50 → 1.5 and 10.0 → 10 (never 1E+1)."""
    return int(value) if value == value.to_integral_value() else value.normalize()


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def has_page(endpoint: str) -> bool:
    """Link pages other parts add (e.g. the wallet) only once they exist."""
    return endpoint in current_app.view_functions


@bp.app_context_processor
def _tier_words() -> dict:
    return {
        "metric_amount": metric_amount, "metric_label": metric_label, "last_moment": last_moment, "multiplier": multiplier,
        "perk_words": perk_words, "benefit_words": benefit_words, "next_level_gains": next_level_gains,
        "tier_color": tier_color, "tier_icon": tier_icon, "progress_step": progress_step,
        "level_names": level_names, "level_name": level_name, "history_text": history_text,
        "leaving_shown": LEAVING_SHOWN, "has_page": has_page,
    }
