"""The earn-rule designer (/admin/rules): the club's base rate first (read-only,
edited in settings), then every rule family with its versions; a draft is edited
in place, a change to an active rule makes a new version. The dry run shows
what a sample purchase would earn and why each rule did or did not match."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.admin import bp
from webapp.admin.common import staff_actor
from webapp.admin.rule_forms import (
    CAP_LABELS,
    EFFECT_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    TRIGGER_LABELS,
    WEEKDAY_LABELS,
    DryRunForm,
    RuleForm,
    effect_text,
    event_from_dry_run,
    form_data,
    rule_from_form,
    set_choices,
)
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.htmx import page_or_fragment
from webapp.i18n import current_locale
from webapp.models import EarnRule, Segment, utcnow
from webapp.services import tiers
from webapp.services.offers import earn_rules
from webapp.services.settings import load_earn_settings
from webapp.transaction import commits, refusal


def _levels():
    program = tiers.load_program(db.session)
    return program.levels if program else ()


def _segments():
    return list(db.session.scalars(
        select(Segment).where(Segment.archived_at.is_(None)).order_by(Segment.name)))


def _context(**extra) -> dict:
    levels = _levels()
    return {"trigger_labels": TRIGGER_LABELS, "effect_labels": EFFECT_LABELS,
            "status_labels": STATUS_LABELS, "cap_labels": CAP_LABELS,
            "reason_labels": REASON_LABELS, "weekday_labels": dict(WEEKDAY_LABELS),
            "effect_text": effect_text, "levels": {lv.id: lv for lv in levels}, **extra}


def _families() -> list[list]:
    """Rule versions grouped by family, newest family and version first."""
    families: dict[int, list] = {}
    for row in earn_rules.list_rules(db.session):
        families.setdefault(row.family_id, []).append(row)
    return list(families.values())


def _rule_form(row=None) -> RuleForm:
    form = RuleForm(data=form_data(row, current_club().timezone) if row is not None else None)
    set_choices(form, _levels(), _segments(), current_locale())
    return form


def _dry_run_form() -> DryRunForm:
    form = DryRunForm(request.args)
    form.tier.choices = [(str(lv.id), lv.name(current_locale())) for lv in _levels()]
    return form


PROBLEM_FIELDS = {"ends_at": "ends_on"}  # service problem → form field


@bp.get("/rules")
@staff_required("offers")
def rules():
    return render_template("admin/rules.html", families=_families(),
                           base=load_earn_settings(db.session), dry=_dry_run_form(), result=None,
                           **_context())


@bp.get("/rules/dry-run")
@staff_required("offers")
def rule_dry_run():
    """Reads only: a sample purchase through the active rules, nothing stored."""
    form = _dry_run_form()
    result = None
    if form.validate():
        event = event_from_dry_run(form, current_club().timezone, utcnow())
        result = earn_rules.dry_run(db.session, event, tier_id=int(form.tier.data) if form.tier.data else None,
                                    first_purchase=bool(form.first_purchase.data), tz=current_club().timezone)
    return page_or_fragment("admin/rules.html", "dry_run", target="dry-run-result",
                            families=_families(), base=load_earn_settings(db.session),
                            dry=form, result=result, **_context())


@bp.route("/rules/new", methods=["GET", "POST"])
@staff_required("offers")
@commits
def rule_new():
    form = _rule_form()
    if form.validate_on_submit():
        with refusal(form, only=(earn_rules.RuleInvalid,), fields=PROBLEM_FIELDS):
            row = earn_rules.create_rule(db.session, rule_from_form(form, current_club().timezone), actor=staff_actor(),
                                         now=utcnow())
            flash(_("Draft saved. Check it, then activate it."), "success")
            return redirect(url_for(".rule_detail", rule_id=row.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/rule_edit.html", form=form, row=None, **_context()), status


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@staff_required("offers")
@commits
def rule_detail(rule_id: int):
    row = db.session.get(EarnRule, rule_id) or abort(404)
    form = _rule_form(row)
    if row.status != "ended" and form.validate_on_submit():
        change = earn_rules.edit_draft if row.status == "draft" else earn_rules.revise_rule
        with refusal(form, fields=PROBLEM_FIELDS):
            saved = change(db.session, row.id, rule_from_form(form, current_club().timezone), actor=staff_actor(),
                           now=utcnow())
            flash(_("Draft saved.") if saved.id == row.id else
                  _("Version %(n)s is active; version %(old)s has ended.", n=saved.version, old=row.version),
                  "success")
            return redirect(url_for(".rule_detail", rule_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/rule_edit.html", form=form, row=row, confirm=ConfirmForm(),
                           versions=earn_rules.family_versions(db.session, row.family_id),
                           **_context()), status


def _lifecycle(rule_id: int, operation, done: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with (refusal(say=_("Someone changed this rule meanwhile; nothing was done.")),
          refusal(only=(earn_rules.RuleInvalid,), say=_("The rule is not complete yet: fix the fields shown and "
                                                         "save first."))):
        operation(db.session, rule_id, actor=staff_actor(), now=utcnow())
        flash(done, "success")
    return redirect(url_for(".rule_detail", rule_id=rule_id))


@bp.post("/rules/<int:rule_id>/activate")
@staff_required("offers")
@commits
def rule_activate(rule_id: int):
    return _lifecycle(rule_id, earn_rules.activate_rule, _("The rule is active."))


@bp.post("/rules/<int:rule_id>/end")
@staff_required("offers")
@commits
def rule_end(rule_id: int):
    return _lifecycle(rule_id, earn_rules.end_rule, _("The rule has ended; it gives no more points."))
