"""Signing in and out, the staff member's language, and the dashboard."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.admin import bp, queries
from webapp.admin.common import staff_actor
from webapp.admin.session_forms import WRONG_LOGIN, LocaleForm, LoginForm
from webapp.auth import safe_next, staff_required
from webapp.extensions import db, limiter
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import LOCALE_COOKIE
from webapp.models import utcnow
from webapp.services.members import staff as staff_service


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and current_user.is_staff and request.method == "GET":
        return redirect(safe_next(form.next.data, url_for(".dashboard")))
    if form.validate_on_submit():
        staff = staff_service.authenticate_staff(
            db.session, form.email.data, form.password.data, utcnow(), ip=request.remote_addr
        )
        db.session.commit()  # the audit row of a failed attempt is kept too
        if staff is not None:
            login_user(staff)
            return redirect(safe_next(form.next.data, url_for(".dashboard")))
        # one answer for an unknown account and a wrong password
        form.form_errors.append(WRONG_LOGIN)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
    return redirect(url_for(".login"))


@bp.post("/locale")
def set_locale():
    """Staff keep their language on their account; before signing in, in a cookie."""
    form = LocaleForm()
    target = safe_next(form.next.data, url_for(".dashboard"))
    if not form.validate_on_submit():
        return redirect(target)
    if current_user.is_authenticated and current_user.is_staff:
        staff_service.set_staff_locale(db.session, current_user._get_current_object(),
                                       form.locale.data, actor=staff_actor(), now=utcnow())
        db.session.commit()
    response = redirect(target)
    response.set_cookie(LOCALE_COOKIE, form.locale.data, max_age=365 * 24 * 3600,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/")
@staff_required("view")
def dashboard():
    totals = queries.club_totals(db.session, utcnow())
    recent = queries.recent_audit(db.session) if current_user.can("audit") else []
    return render_template("admin/dashboard.html", totals=totals, recent=recent)
