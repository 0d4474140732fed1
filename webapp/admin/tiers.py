"""The tier program editor and members' tier overrides (the card on the member
page is `admin.member_tier`).

Editing is two steps: "Preview changes" checks the program (through
`tier_rules.check_program`) and counts who would move up and down; "Save"
posts the same fields with the preview's fingerprint, the program version the
editor started from (a colleague's save in between makes it stale) and a
one-time form token (claimed in Redis, so a double click saves once even
before the first save has committed)."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select

from webapp.admin import bp
from webapp.admin.common import form_error, staff_actor
from webapp.admin.member_tier import OVERRIDE_PREFIX, end_of_local_day, override_choices
from webapp.admin.members import _member_or_404, _member_page
from webapp.admin.tier_forms import (
    MAX_LEVELS,
    TierOverrideForm,
    TierProgramForm,
    benefit_lines,
)
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.htmx import wants_fragment
from webapp.i18n import current_locale, format_number
from webapp.models import Member, Tier, TierProgram, utcnow
from webapp.services import tiers as tiers_service
from webapp.services.errors import DomainError
from webapp.services.tiers import rules as tier_rules

BP = Decimal(tier_rules.BP)

# -- program <-> form -----------------------------------------------------------------


def program_form_data(program: tier_rules.Program, version: int | None) -> dict:
    return {
        "metric": program.metric, "window_kind": program.window_kind,
        "window_days": program.window_days, "calendar_period": program.calendar_period or "year",
        "calendar_system": program.calendar_system, "grace_days": program.grace_days,
        "allow_overrides": program.allow_overrides,
        "rebate_money_per_point": program.rebate_money_per_point,
        "version": "" if version is None else str(version),
        "levels": [_level_form_data(level) for level in program.levels],
    }


def _level_form_data(level: tier_rules.Level) -> dict:
    perks = level.perks or {}
    return {
        "code": level.code, "name_fa": level.name_fa, "name_en": level.name_en,
        "threshold": level.threshold, "multiplier": Decimal(level.earn_multiplier_bp) / BP,
        "color": level.color, "icon": level.icon,
        "benefits_fa": "\n".join(b.get("fa", "") for b in level.benefits),
        "benefits_en": "\n".join(b.get("en", "") for b in level.benefits),
        "free_shipping": bool(perks.get("free_shipping")),
        "rewards_unlocked": bool(perks.get("rewards_unlocked")),
        "extra_raffle_tickets": int(perks.get("extra_raffle_tickets") or 0),
        "fee_rebate_percent": Decimal(int(perks.get("fee_rebate_bp") or 0)) / 100,
    }


def program_from_form(form: TierProgramForm) -> tier_rules.Program:
    """The program the (field-valid) form describes; ranks follow the rows."""
    levels = []
    for rank, row in enumerate(form.levels):
        f = row.form
        benefits = tuple({"fa": fa, "en": en} for fa, en in
                         zip(benefit_lines(f.benefits_fa.data), benefit_lines(f.benefits_en.data),
                             strict=True))
        levels.append(tier_rules.Level(
            rank=rank, code=f.code.data, name_fa=f.name_fa.data, name_en=f.name_en.data,
            threshold=f.threshold.data, earn_multiplier_bp=int(f.multiplier.data * BP),
            color=f.color.data, icon=f.icon.data, benefits=benefits,
            perks={"free_shipping": bool(f.free_shipping.data),
                   "extra_raffle_tickets": f.extra_raffle_tickets.data,
                   "fee_rebate_bp": int(f.fee_rebate_percent.data * 100),
                   "rewards_unlocked": bool(f.rewards_unlocked.data)},
        ))
    rolling = form.window_kind.data == "rolling"
    return tier_rules.Program(
        metric=form.metric.data, window_kind=form.window_kind.data, levels=tuple(levels),
        window_days=form.window_days.data if rolling else (form.window_days.data or 365),
        calendar_period=None if rolling else form.calendar_period.data,
        calendar_system=form.calendar_system.data, grace_days=form.grace_days.data,
        allow_overrides=bool(form.allow_overrides.data),
        rebate_money_per_point=form.rebate_money_per_point.data,
    )


def program_digest(program: tier_rules.Program | None) -> str:
    """A fingerprint of what a program says (not of row ids), so the confirm step
    can tell it saves exactly what was previewed."""
    if program is None:
        return ""
    perks = ("free_shipping", "extra_raffle_tickets", "fee_rebate_bp", "rewards_unlocked")
    body = {
        "metric": program.metric, "window_kind": program.window_kind,
        "window_days": program.window_days if program.window_kind == "rolling" else None,
        "calendar_period": program.calendar_period if program.window_kind == "calendar" else None,
        "calendar_system": program.calendar_system if program.window_kind == "calendar" else None,
        "grace_days": program.grace_days, "allow_overrides": bool(program.allow_overrides),
        "rebate_money_per_point": program.rebate_money_per_point,
        "levels": [{
            "rank": lv.rank, "code": lv.code, "name_fa": lv.name_fa, "name_en": lv.name_en,
            "threshold": lv.threshold, "earn_multiplier_bp": lv.earn_multiplier_bp,
            "color": lv.color.lower(), "icon": lv.icon,
            "benefits": [[b.get("fa", ""), b.get("en", "")] for b in lv.benefits],
            "perks": [int((lv.perks or {}).get(name) or 0) for name in perks],
        } for lv in program.levels],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# -- check_program's problems as form errors ----------------------------------------------

_PROGRAM_FIELDS = {
    "Unknown metric": ("metric", _l("Choose what members qualify by.")),
    "Unknown window": ("window_kind", _l("Choose how the metric is counted.")),
    "A rolling window": ("window_days", _l("Between 1 and 3650 days.")),
    "Choose the calendar period": ("calendar_period", _l("Choose month, quarter or year.")),
    "Choose the calendar:": ("calendar_system", _l("Choose Jalali or Gregorian.")),
    "The downgrade grace": ("grace_days", _l("Between 0 and 365 days.")),
}
_NEEDS_A_LEVEL = _l("The program needs at least one level.")
_ENTRY_LEVEL = _l("Exactly one entry level, the first, must have threshold 0.")
_NOT_ABOVE = _l("Must be above the level before it (%(threshold)s).")
_CODES = _l("Every level needs its own code.")
_NAMES = _l("Give the Persian and the English name.")
_MULTIPLIER = _l("Between 0 and 10.")
_FIX_LEVELS = _l("Some fields need fixing; they are marked below.")
_STRICTLY = re.compile(r"Thresholds must strictly increase: (?P<code>.*) \(")


def show_problems(form: TierProgramForm, program: tier_rules.Program, problems: list[str]) -> None:
    """Put each of `check_program`'s problems (English) on the field it is about,
    in the staff member's language."""
    rows = [row.form for row in form.levels]

    def on(field, message) -> None:
        if message not in field.errors:
            field.errors = [*field.errors, message]

    for problem in problems:
        known = next((v for k, v in _PROGRAM_FIELDS.items() if problem.startswith(k)), None)
        if known:
            on(getattr(form, known[0]), known[1])
        elif problem.startswith("The program needs"):
            form.form_errors.append(_NEEDS_A_LEVEL)
        elif problem.startswith("Exactly one entry level"):
            on(rows[0].threshold, _ENTRY_LEVEL)
        elif _STRICTLY.match(problem):
            for lower, higher, row in zip(program.levels, program.levels[1:], rows[1:], strict=False):
                if higher.threshold <= lower.threshold:
                    on(row.threshold, _NOT_ABOVE % {"threshold": lower.threshold})
        elif problem.startswith("Every level needs its own code"):
            codes = [lv.code for lv in program.levels]
            for code, row in zip(codes, rows, strict=True):
                if codes.count(code) > 1 or not code:
                    on(row.code, _CODES)
        elif problem.endswith("needs a Persian and an English name."):
            for level, row in zip(program.levels, rows, strict=True):
                if not level.name_fa.strip() or not level.name_en.strip():
                    on(row.name_en, _NAMES)
        elif "earn multiplier" in problem:
            for level, row in zip(program.levels, rows, strict=True):
                if not 0 <= level.earn_multiplier_bp <= tier_rules.MAX_MULTIPLIER_BP:
                    on(row.multiplier, _MULTIPLIER)
        else:
            form.form_errors.append(problem)
    if problems and _FIX_LEVELS not in form.form_errors:
        form.form_errors.append(_FIX_LEVELS)


def checked_program(form: TierProgramForm) -> tier_rules.Program | None:
    """The program, if the form and the tier rules both accept it."""
    if not form.validate():
        form.form_errors.extend(form.token.errors)  # a hidden field: say it above the form
        form.form_errors.append(_FIX_LEVELS)
        return None
    program = program_from_form(form)
    problems = tier_rules.check_program(program)
    if problems:
        show_problems(form, program, problems)
        return None
    return program


def problem_list(form: TierProgramForm) -> list[str]:
    """Every error on the form as one line each (the live preview shows them
    beside the fields it cannot mark)."""
    lines = [str(e) for e in form.form_errors if e is not _FIX_LEVELS]
    for name, field in form._fields.items():
        if name == "token":
            continue  # already among the form errors
        if name != "levels":
            lines += [f"{field.label.text}: {e}" for e in field.errors]
            continue
        for rank, row in enumerate(field):
            for sub in row.form:
                lines += [_("Level %(rank)s · %(field)s: %(error)s", rank=format_number(rank), field=sub.label.text,
                            error=e) for e in sub.errors]
    return lines


# -- reads for the pages ------------------------------------------------------------------


def program_version(*, lock: bool = False) -> int | None:
    stmt = select(TierProgram.version).order_by(TierProgram.id).limit(1)
    if lock:  # a save waits for another one in flight, then sees its version
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def members_per_rank() -> dict[int, int]:
    """How many members hold each rank now (a member not evaluated yet holds the
    entry level). Ranks, not codes: saving keeps each rank's level."""
    rank = func.coalesce(Tier.rank, 0)
    rows = db.session.execute(
        select(rank, func.count(Member.id)).select_from(Member)
        .outerjoin(Tier, Tier.id == Member.tier_id).group_by(rank)
    ).all()
    return {int(r): int(n) for r, n in rows}


# -- the editor --------------------------------------------------------------------------


def _editor(form, *, status: int = 200, preview=None, program=None):
    """The editor page, or (for htmx's live preview) just its preview block."""
    has_program = form.version.data not in (None, "")
    context = {"form": form, "preview": preview, "has_program": has_program,
               "max_levels": MAX_LEVELS, "problems": problem_list(form)}
    if preview is not None:
        top = len(program.levels) - 1
        before = [0] * (top + 1)
        for rank, count in members_per_rank().items():
            before[min(rank, top)] += count  # a dropped level's members count from the new top
        context["digest"] = program_digest(program)
        context["rows"] = [{"level": lv, "before": before[lv.rank],
                            "after": preview.per_level.get(lv.code, 0)} for lv in program.levels]
    if wants_fragment("tier-preview"):
        # htmx swaps only 2xx answers: problems are part of the fragment
        return render_block("admin/tiers.html", "preview", **context)
    return render_template("admin/tiers.html", **context), status


@bp.get("/tiers")
@staff_required("tiers")
def tiers():
    program = tiers_service.load_program(db.session)
    version = program_version() if program is not None else None
    data = program_form_data(program or tiers_service.default_program(), version)
    return _editor(TierProgramForm(formdata=None, data=data))


@bp.post("/tiers")
@staff_required("tiers")
def tiers_preview():
    """Add or remove a level row (no JavaScript needed), or preview the program."""
    form = TierProgramForm()
    if "add_level" in request.form:
        if len(form.levels) < MAX_LEVELS:
            form.levels.append_entry()
        return _editor(form)
    remove = request.form.get("remove_level", "")
    if remove.isdigit():
        if len(form.levels) > 1 and int(remove) < len(form.levels):
            form.levels.pop_entry(int(remove))
        return _editor(form)
    program = checked_program(form)
    if program is None:
        return _editor(form, status=422)
    preview = tiers_service.preview_change(db.session, program, utcnow())
    return _editor(form, preview=preview, program=program)


@bp.post("/tiers/save")
@staff_required("tiers")
def tiers_save():
    form = TierProgramForm()
    program = checked_program(form)
    if program is None:
        return _editor(form, status=422)
    refused = _refuse_confirmation(form, program)
    if refused is not None:
        return refused
    try:
        tiers_service.save_program(db.session, program, actor=staff_actor(), now=utcnow())
    except tiers_service.TierProgramInvalid as exc:
        db.session.rollback()
        _release_token(form.token.data)
        show_problems(form, program, exc.problems)
        return _editor(form, status=422)
    db.session.commit()
    flash(_("The tier program is saved."), "success")
    return redirect(url_for(".tiers"))


def _refuse_confirmation(form, program):
    """None when this confirmation may save; else the answer: a repeat of a saved
    form, a preview made stale by a colleague's save, or a program edited after
    its preview (both shown again with a fresh preview). Holds the program row
    lock until the request ends, so two confirmations cannot both pass."""
    version = program_version(lock=True)
    current = "" if version is None else str(version)
    if _token_used(form.token.data):
        return _already_saved()
    if form.version.data != current:
        if form.digest.data == program_digest(tiers_service.load_program(db.session)):
            return _already_saved()
        form.form_errors.append(_("Someone saved the program while you were editing. Check the "
                                  "preview against their version, then save again."))
        form.version.data = current
        return _fresh_preview(form, program, status=409)
    if form.digest.data != program_digest(program):
        form.form_errors.append(_("The program changed after the preview. Check this preview, "
                                  "then save."))
        return _fresh_preview(form, program, status=409)
    if not _claim_token(form.token.data):
        return _already_saved()
    return None


TOKEN_TTL = 24 * 3600


def _token_key(token: str) -> str:
    return f"vafa:admin:tier-program-form:{token}"


def _token_used(token: str) -> bool:
    return bool(current_app.extensions["vafa_redis"].exists(_token_key(token)))


def _claim_token(token: str) -> bool:
    """True for the first request that presents this form token."""
    return bool(current_app.extensions["vafa_redis"].set(_token_key(token), 1, nx=True, ex=TOKEN_TTL))


def _release_token(token: str) -> None:
    current_app.extensions["vafa_redis"].delete(_token_key(token))


def _already_saved():
    flash(_("This form was already submitted; the program was saved once."), "info")
    return redirect(url_for(".tiers"))


def _fresh_preview(form, program, *, status: int):
    db.session.rollback()  # let go of the lock before counting
    preview = tiers_service.preview_change(db.session, program, utcnow())
    return _editor(form, preview=preview, program=program, status=status)


# -- a member's tier override (the card is admin.member_tier's) ---------------------------


@bp.post("/members/<int:member_id>/tier-override")
@staff_required("adjust")
def member_tier_override(member_id: int):
    _member_or_404(member_id)
    program = tiers_service.load_program(db.session)
    if program is None:
        abort(404)
    form = TierOverrideForm(prefix=OVERRIDE_PREFIX)
    form.tier.choices = override_choices(program, current_locale())
    if not program.allow_overrides:  # the page shows no override form to put this on
        flash(_("The tier program does not allow overrides."), "error")
        return _member_page(member_id, status=409)
    if form.validate_on_submit():
        until = end_of_local_day(form.until.data) if form.until.data else None
        try:
            tiers_service.set_override(db.session, member_id=member_id, tier_code=form.tier.data or None,
                                       until=until, reason=form.reason.data, actor=staff_actor(),
                                       now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "until" if exc.code == "invalid_override" else None)
        else:
            db.session.commit()
            flash(_("Tier override saved.") if form.tier.data else _("Tier override ended."), "success")
            return redirect(url_for(".member", member_id=member_id))
    return _member_page(member_id, status=422, override_form=form)
