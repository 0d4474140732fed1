"""The owner's points-to-store-credit conversion settings (/admin/wallet)."""

from __future__ import annotations

from dataclasses import asdict, replace

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block

from webapp.admin import bp
from webapp.admin.common import show_problems, staff_actor
from webapp.admin.settings_forms import WalletExampleForm, WalletSettingsForm
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.models import utcnow
from webapp.services.ledger import wallet

EXAMPLE_POINTS = 1_000
FIELDS = ("enabled", "points_per_step", "credit_per_step", "min_points", "daily_cap_points")
# the service names what is wrong per field, in English; staff read these
PROBLEMS = {
    "enabled": _l("Choose on or off."),
    "points_per_step": _l("Between 1 and 1,000,000,000 points."),
    "credit_per_step": _l("Between 1 and 1,000,000,000."),
    "min_points": _l("At least one step: a whole multiple of the points per step, "
                     "up to 1,000,000,000."),
    "daily_cap_points": _l("0 (no cap), or at least the minimum, up to 1,000,000,000."),
}


def _settings(form) -> wallet.WalletSettings:
    return wallet.WalletSettings(**{name: getattr(form, name).data for name in FIELDS})


def _example(form) -> dict | None:
    """What the rule being typed gives for the example amount (members would see
    the same numbers on /me/wallet); None while the fields are wrong."""
    if form.errors:
        return None
    settings = _settings(form)
    problems = wallet.check_settings(settings)
    if problems:
        show_problems(form, problems, words=PROBLEMS)
        return None
    points = form.example_points.data or max(EXAMPLE_POINTS, settings.min_points)
    # the example explains the rate even while conversions are switched off
    preview = wallet.preview_conversion(replace(settings, enabled=True), points, balance=points,
                                        converted_today=0)
    return {"settings": settings, "requested": points, "points": preview.points,
            "credit": preview.credit, "refusal": preview.refusal}


@bp.route("/wallet", methods=["GET", "POST"])
@staff_required("settings")
def wallet_settings():
    current = asdict(wallet.load_wallet_settings(db.session))
    form = WalletSettingsForm(data=current)
    if form.validate_on_submit() and "preview" not in request.form:
        try:
            wallet.save_wallet_settings(db.session, _settings(form), actor=staff_actor(), now=utcnow())
        except wallet.WalletSettingsInvalid as exc:
            db.session.rollback()
            show_problems(form, exc.problems, words=PROBLEMS)
        else:
            db.session.commit()
            flash(_("Wallet settings saved."), "success")
            return redirect(url_for(".wallet_settings"))
    example = _example(form)  # also flags what the service would refuse on a preview
    status = 422 if form.errors else 200
    return render_template("admin/wallet_settings.html", form=form, example=example), status


@bp.get("/wallet/example")
@staff_required("settings")
def wallet_example():
    """The live example (htmx): what the settings being typed would give."""
    form = WalletExampleForm(request.args)
    example = _example(form) if form.validate() else None
    return render_block("admin/wallet_settings.html", "example", example=example)
