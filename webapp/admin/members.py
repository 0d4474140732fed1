"""Finding members, their detail page, and manual adjustments."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.admin import bp, queries
from webapp.admin.common import form_error, staff_actor
from webapp.admin.member_forms import AdjustPointsForm, GrantCreditForm, SearchForm
from webapp.admin.member_tier import member_tier_context
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.forms.fields import new_form_token
from webapp.htmx import page_or_fragment, wants_fragment
from webapp.i18n import current_locale, format_money, format_points
from webapp.models import Member, utcnow
from webapp.services.errors import DomainError, IdempotencyConflict
from webapp.services.ledger import adjustments
from webapp.services.offers import rewards

COUPONS_SHOWN = 20


@bp.get("/members")
@staff_required("members")
def members():
    form = SearchForm(request.args)
    query = form.q.data if form.validate() else ""
    page = queries.search_members(db.session, query or "", queries.page_number(request.args.get("page")))
    return page_or_fragment("admin/members.html", "results", form=form, query=query, page=page)


@bp.get("/members/<int:member_id>")
@staff_required("members")
def member(member_id: int):
    return _member_page(member_id)


@bp.post("/members/<int:member_id>/adjust-points")
@staff_required("adjust")
def adjust_points(member_id: int):
    return _adjust(member_id, AdjustPointsForm(), adjustments.adjust_points, lambda r: _(
        "Points adjusted: %(before)s → %(after)s.",
        before=format_points(r.before), after=format_points(r.after)))


@bp.post("/members/<int:member_id>/grant-credit")
@staff_required("adjust")
def grant_credit(member_id: int):
    return _adjust(member_id, GrantCreditForm(), adjustments.grant_credit, lambda r: _(
        "Store credit granted: %(before)s → %(after)s.",
        before=format_money(r.before), after=format_money(r.after)))


def _adjust(member_id: int, form, operation, done):
    """Form → one service call → commit; a replayed token posts nothing twice."""
    _member_or_404(member_id)
    if form.validate_on_submit():
        try:
            result = operation(db.session, member_id=member_id, amount=form.amount.data,
                               reason=form.reason.data, actor=staff_actor(), now=utcnow(),
                               key=form.token.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "amount")
            if isinstance(exc, IdempotencyConflict):
                form.token.data = new_form_token()  # the corrected form may be sent again
        else:
            db.session.commit()
            if result.replayed:
                flash(_("This form was already submitted; it was recorded once."), "info")
            else:
                flash(done(result), "success")
            return redirect(url_for(".member", member_id=member_id))
    forms = {"adjust_form": form} if isinstance(form, AdjustPointsForm) else {"credit_form": form}
    return _member_page(member_id, status=422, **forms)


def _member_or_404(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    return member


def _member_page(member_id: int, *, status: int = 200, adjust_form=None, credit_form=None,
                 override_form=None):
    member = _member_or_404(member_id)
    page = queries.page_number(request.args.get("page"))
    context = {"member": member, "ledger": queries.member_ledger(db.session, member_id, page)}
    if not wants_fragment("ledger"):
        context["purchases"] = queries.member_purchases(db.session, member_id)
        # one joined query; one more row than shown tells the page there are older ones
        context["coupons"] = rewards.member_coupons(db.session, member_id, utcnow(), limit=COUPONS_SHOWN + 1)
        context["coupons_shown"] = COUPONS_SHOWN
        context.update(member_tier_context(member, locale=current_locale(), override_form=override_form))
    if current_user.can("adjust"):
        context["adjust_form"] = adjust_form or AdjustPointsForm(formdata=None)
        context["credit_form"] = credit_form or GrantCreditForm(formdata=None)
    return page_or_fragment("admin/member.html", "ledger", target="ledger", **context), status
