"""Staff pages for marketers (affiliates) under /admin/marketers: the list with
balances and funnel totals, creating one (or promoting a member), and a page
per marketer with its terms, per-campaign funnel, ledger and payout forms.
"offers" creates and edits, "adjust" pays out, "view" reads. Every write goes
through `services.marketers`, which audits it."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.admin import bp, queries
from webapp.admin.common import staff_actor
from webapp.admin.marketer_forms import (
    ENTRY_KINDS,
    STATUS_LABELS,
    CreditForm,
    NewMarketerForm,
    PayoutForm,
    StatusForm,
    TermsForm,
    percent_text,
    refusal,
)
from webapp.admin.member_forms import SearchForm
from webapp.auth import staff_required
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.forms.fields import new_form_token
from webapp.htmx import page_or_fragment, wants_fragment
from webapp.i18n import format_money
from webapp.models import Marketer, Member, utcnow
from webapp.services.errors import DomainError, IdempotencyConflict
from webapp.services.referrals import marketers as service
from webapp.services.referrals import stats

MAX_ID = 2**31 - 1


@bp.context_processor
def _marketer_words() -> dict:
    return {"marketer_status_labels": STATUS_LABELS, "marketer_entry_kinds": ENTRY_KINDS,
            "percent_text": percent_text}


def _marketer(marketer_id: int) -> Marketer:
    marketer = db.session.get(Marketer, marketer_id) if marketer_id <= MAX_ID else None
    if marketer is None:
        abort(404)
    return marketer


@bp.get("/marketers")
@staff_required("view")
def marketers():
    form = SearchForm(request.args)
    query = form.q.data if form.validate() else ""
    page = queries.page_number(request.args.get("page"))
    rows, has_next = service.marketer_rows(db.session, page=page, query=query or "")
    listing = queries.Page(items=rows, page=page, per_page=50, has_next=has_next)
    return page_or_fragment("admin/marketers.html", "results", form=form, query=query, page=listing)


@bp.route("/marketers/new", methods=["GET", "POST"])
@staff_required("offers")
def marketer_new():
    form = NewMarketerForm()
    if form.validate_on_submit():
        try:
            if form.who.data == "member":
                marketer = service.promote_member(db.session, form.terms(), login=form.login.data,
                                                  code=form.code.data, actor=staff_actor(), now=utcnow())
            else:
                marketer = service.create_marketer(db.session, form.terms(), email=form.email.data,
                                                   password=form.password.data or None, code=form.code.data,
                                                   actor=staff_actor(), now=utcnow())
        except service.MarketerInvalid as exc:
            db.session.rollback()
            form.show_problems(exc)
        except DomainError as exc:
            db.session.rollback()
            field = {"code_taken": form.code, "already_marketer": form.login, "marketer_member_unknown": form.login,
                     "weak_password": form.password}.get(exc.code, form.email if form.who.data == "outside" else None)
            _field_error(form, field, refusal(exc))
        else:
            db.session.commit()
            flash(_("The marketer is saved. Their link is ready to share."), "success")
            return redirect(url_for(".marketer", marketer_id=marketer.id))
    return render_template("admin/marketer_new.html", form=form), 422 if request.method == "POST" else 200


def _field_error(form, field, message: str) -> None:
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


@bp.route("/marketers/<int:marketer_id>", methods=["GET", "POST"])
@staff_required("view")
def marketer(marketer_id: int):
    _marketer(marketer_id)
    if request.method == "GET":
        return _page(marketer_id)
    if not current_user.can("offers"):
        abort(403)
    form = TermsForm()
    if form.validate_on_submit():
        try:
            service.update_marketer(db.session, marketer_id, form.terms(), actor=staff_actor(), now=utcnow())
        except service.MarketerInvalid as exc:
            db.session.rollback()
            form.show_problems(exc)
        else:
            db.session.commit()
            flash(_("The marketer is saved."), "success")
            return redirect(url_for(".marketer", marketer_id=marketer_id))
    return _page(marketer_id, status=422, terms_form=form)


@bp.post("/marketers/<int:marketer_id>/status")
@staff_required("offers")
def marketer_status(marketer_id: int):
    _marketer(marketer_id)
    form = StatusForm()
    if not form.validate_on_submit() or form.status.data not in STATUS_LABELS:
        flash(_("Check what you entered and try again."), "error")
        return redirect(url_for(".marketer", marketer_id=marketer_id))
    service.set_status(db.session, marketer_id, form.status.data, actor=staff_actor(), now=utcnow(),
                       reason=form.reason.data)
    db.session.commit()
    flash(_("The marketer is suspended: their links no longer work.") if form.status.data == "suspended"
          else _("The marketer is active again."), "success")
    return redirect(url_for(".marketer", marketer_id=marketer_id))


@bp.post("/marketers/<int:marketer_id>/payout")
@staff_required("adjust")
def marketer_payout(marketer_id: int):
    form = PayoutForm()
    return _pay(marketer_id, form, "payout_form", lambda: service.pay_out(
        db.session, marketer_id, form.amount.data, reference=form.reference.data, key=form.token.data,
        actor=staff_actor(), now=utcnow()))


@bp.post("/marketers/<int:marketer_id>/credit")
@staff_required("adjust")
def marketer_credit(marketer_id: int):
    form = CreditForm()
    return _pay(marketer_id, form, "credit_form", lambda: service.convert_to_credit(
        db.session, marketer_id, form.amount.data, key=form.token.data, actor=staff_actor(), now=utcnow()))


def _pay(marketer_id: int, form, name: str, pay):
    """Form → one service call → commit; a replayed token pays nothing twice."""
    _marketer(marketer_id)
    if form.validate_on_submit():
        try:
            done = pay()
        except DomainError as exc:
            db.session.rollback()
            _field_error(form, form.amount, refusal(exc))
            if isinstance(exc, IdempotencyConflict):
                form.token.data = new_form_token()  # the corrected form may be sent again
        else:
            db.session.commit()
            if done.replayed:
                flash(_("This form was already submitted; it was recorded once."), "info")
            else:
                flash(_("Paid %(amount)s. The balance is now %(balance)s.", amount=format_money(-done.entry.amount),
                        balance=format_money(done.balance)), "success")
            return redirect(url_for(".marketer", marketer_id=marketer_id))
    return _page(marketer_id, status=422, **{name: form})


@bp.post("/marketers/<int:marketer_id>/password-link")
@staff_required("offers")
def marketer_password_link(marketer_id: int):
    _marketer(marketer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        token = service.password_link_token(db.session, marketer_id, secret=current_app.config["SECRET_KEY"],
                                            actor=staff_actor(), now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
        return redirect(url_for(".marketer", marketer_id=marketer_id))
    db.session.commit()
    link = request.host_url.rstrip("/") + url_for("partner.set_password", token=token)
    return _page(marketer_id, password_link=link)


def _page(marketer_id: int, *, status: int = 200, terms_form=None, payout_form=None, credit_form=None,
          password_link: str | None = None):
    marketer = _marketer(marketer_id)
    page = queries.page_number(request.args.get("page"))
    entries, has_next = service.entries_page(db.session, marketer_id, page=page)
    context = {"marketer": marketer, "entries": queries.Page(items=entries, page=page, per_page=20,
                                                             has_next=has_next)}
    if wants_fragment("marketer-entries"):
        return page_or_fragment("admin/marketer.html", "entries", target="marketer-entries", **context), status
    if terms_form is None:
        terms_form = TermsForm(formdata=None)
        terms_form.fill(marketer)
    context.update(
        member=db.session.get(Member, marketer.member_id) if marketer.member_id else None,
        funnel=stats.funnel(db.session, marketer_id=marketer_id),
        campaigns=service.campaign_funnels(db.session, marketer_id),
        earnings=service.earnings(db.session, marketer_id),
        link=request.host_url.rstrip("/") + service.link_path(marketer.code),
        terms_form=terms_form, status_form=StatusForm(formdata=None), confirm=ConfirmForm(),
        password_link=password_link,
        payout_form=payout_form or PayoutForm(formdata=None),
        credit_form=credit_form or CreditForm(formdata=None, data={"amount": marketer.balance or None}),
    )
    return page_or_fragment("admin/marketer.html", "entries", target="marketer-entries", **context), status
