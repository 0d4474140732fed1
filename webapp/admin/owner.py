"""Owner-only pages: the base earn rule, API keys and staff accounts."""

from __future__ import annotations

from dataclasses import asdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from webapp.admin import bp, queries
from webapp.admin.common import form_error, staff_actor
from webapp.admin.domain_messages import domain_message
from webapp.admin.settings_forms import EarnSettingsForm, ExampleForm
from webapp.admin.staff_forms import ApiKeyForm, StaffForm
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.models import utcnow
from webapp.services import settings as settings_service
from webapp.services.errors import DomainError, NotFound
from webapp.services.members import staff as staff_service

EXAMPLE_AMOUNT = 1_000_000  # smallest money unit (100,000 toman in rials)


def _example(form) -> dict:
    """The earn rule the form describes, applied to its example purchase."""
    amount = form.example_amount.data or EXAMPLE_AMOUNT
    rule = settings_service.EarnSettings(
        earn_points=form.earn_points.data, earn_per_amount=form.earn_per_amount.data,
        points_expiry_days=form.points_expiry_days.data, earn_enabled=form.earn_enabled.data,
    )
    return {"amount": amount, "points": rule.points_for(amount)}


@bp.route("/settings", methods=["GET", "POST"])
@staff_required("settings")
def settings():
    current = asdict(settings_service.load_earn_settings(db.session))
    form = EarnSettingsForm(data={**current, "example_amount": EXAMPLE_AMOUNT})
    status = 200
    if form.validate_on_submit() and "preview" not in request.form:
        try:
            settings_service.save_earn_settings(
                db.session, settings_service.EarnSettings(**_rule_fields(form)),
                actor=staff_actor(), now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for(".settings"))
    if form.errors or form.form_errors:
        status = 422
    example = _example(form) if not form.errors else None
    return render_template("admin/settings.html", form=form, example=example), status


@bp.get("/settings/example")
@staff_required("settings")
def settings_example():
    """The live example (htmx): what the rule being typed would give."""
    form = ExampleForm(request.args)
    example = _example(form) if form.validate() else None
    return render_template("admin/_earn_example.html", example=example)


def _rule_fields(form) -> dict:
    return {name: getattr(form, name).data for name in
            ("earn_points", "earn_per_amount", "points_expiry_days", "earn_enabled")}


# -- API keys --------------------------------------------------------------------


@bp.get("/api-keys")
@staff_required("api_keys")
def api_keys(form=None, status=200):
    return render_template("admin/api_keys.html", form=form or ApiKeyForm(formdata=None),
                           keys=queries.all_api_keys(db.session), confirm=ConfirmForm()), status


@bp.post("/api-keys")
@staff_required("api_keys")
def create_api_key():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return api_keys(form, 422)
    key, plain = staff_service.create_api_key(db.session, name=form.name.data,
                                              actor=staff_actor(), now=utcnow())
    db.session.commit()
    # the only time the key is ever shown: keep it out of every cache
    response = render_template("admin/api_key_created.html", key=key, plain=plain)
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/api-keys/<int:key_id>/revoke")
@staff_required("api_keys")
def revoke_api_key(key_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            key = staff_service.revoke_api_key(db.session, key_id, actor=staff_actor(), now=utcnow())
        except NotFound:
            abort(404)
        db.session.commit()
        flash(_("Key %(name)s revoked.", name=key.name), "success")
    return redirect(url_for(".api_keys"))


# -- staff -----------------------------------------------------------------------


@bp.get("/staff")
@staff_required("staff")
def staff(form=None, status=200):
    return render_template("admin/staff.html", form=form or StaffForm(formdata=None),
                           people=queries.all_staff(db.session), confirm=ConfirmForm()), status


@bp.post("/staff")
@staff_required("staff")
def create_staff():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            person = staff_service.create_staff(
                db.session, email=form.email.data, password=form.password.data,
                role=form.role.data, display_name=form.display_name.data,
                locale=form.locale.data or None, actor=staff_actor(), now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "password" if exc.code == "weak_password" else "email")
        else:
            db.session.commit()
            flash(_("Staff account %(email)s created.", email=person.email), "success")
            return redirect(url_for(".staff"))
    return staff(form, 422)


@bp.post("/staff/<int:staff_id>/deactivate")
@staff_required("staff")
def deactivate_staff(staff_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            person = staff_service.deactivate_staff(db.session, staff_id, actor=staff_actor(),
                                                    now=utcnow())
        except NotFound:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            flash(domain_message(exc), "error")
        else:
            db.session.commit()
            flash(_("%(email)s can no longer sign in.", email=person.email), "success")
    return redirect(url_for(".staff"))
