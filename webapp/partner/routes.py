"""Marketer pages. Only ever the signed-in marketer's own data: no marketer
ids in URLs. A member who is not a marketer gets 404; nobody signed in is sent
to /partner/login."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from jinja2_fragments.flask import render_block

from webapp.auth import safe_next
from webapp.extensions import db, limiter
from webapp.htmx import wants_fragment
from webapp.i18n import current_locale, format_number
from webapp.models import Marketer, utcnow
from webapp.partner import bp
from webapp.partner.forms import (
    CampaignLinkForm,
    PartnerLoginForm,
    PartnerLogoutForm,
    SetPasswordForm,
)
from webapp.qr import qr_svg
from webapp.services.errors import DomainError
from webapp.services.referrals import marketers, stats
from webapp.transaction import after_commit, commits, refusal

RECENT_ENTRIES = 10


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def current_marketer() -> Marketer | None:
    """The marketer signed in: a marketer session, or a member promoted to one
    (looked up once per request)."""
    user = current_user
    if not user or not user.is_authenticated:
        return None
    account = user._get_current_object() if hasattr(user, "_get_current_object") else user
    if isinstance(account, Marketer):
        return account
    if not account.is_member:
        return None
    if "vafa_member_marketer" not in g:
        g.vafa_member_marketer = marketers.of_member(db.session, account.id)
    return g.vafa_member_marketer


@bp.app_template_global("partner_of_member")
def partner_of_member() -> bool:
    """For the member pages: the dashboard links to /partner for a member who is a
    marketer (the member's own query said so, `webapp.auth`)."""
    if not (current_user.is_authenticated and current_user.is_member):
        return False
    if "vafa_is_marketer" in g:
        return bool(g.vafa_is_marketer)
    return current_marketer() is not None


@bp.app_template_filter("bp_percent")
def bp_percent(bp_value: int) -> str:
    """Basis points as a percent in the page's digits: 250 → "2.5%" / "۲٫۵٪"."""
    locale = current_locale()
    text = format_number(Decimal(bp_value or 0) / 100, locale)
    return f"{text}٪" if locale == "fa" else f"{text}%"


@bp.context_processor
def _partner_words() -> dict:
    return {"partner_entry_kinds": {"commission": _("Commission"), "reversal": _("Reversed (refund)"),
                                    "payout": _("Paid out"), "adjustment": _("Adjustment")}}


def _failed(template: str, **context):
    return render_template(template, **context), 422 if request.method == "POST" else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@commits
def login():
    form = PartnerLoginForm(next=request.args.get("next", ""))
    if current_marketer() is not None:
        return redirect(safe_next(form.next.data, url_for(".dashboard")))
    if form.validate_on_submit():
        marketer = marketers.authenticate(db.session, form.email.data, form.password.data, utcnow())
        if marketer is not None:
            after_commit(lambda: login_user(marketer))
            return redirect(safe_next(form.next.data, url_for(".dashboard")))
        # one answer for unknown accounts, wrong passwords and suspended marketers
        form.form_errors.append(_("That e-mail and password do not match."))
    return _failed("partner/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
@commits
def logout():
    form = PartnerLogoutForm()
    if form.validate_on_submit():
        account = current_user._get_current_object() if current_user.is_authenticated else None
        if isinstance(account, Marketer) and form.everywhere.data:
            marketers.sign_out_everywhere(account)
        logout_user()
        flash(_("You are signed out."), "info")
        return redirect(url_for(".login"))
    return render_template("partner/logout.html", form=form)


@bp.get("")
def dashboard():
    marketer = current_marketer()
    if marketer is None:
        if not current_user.is_authenticated:
            return redirect(url_for(".login", next=request.full_path.rstrip("?")))
        abort(404)  # a member or staff account that is not a marketer
    form = CampaignLinkForm(request.args)
    campaign = None
    if form.validate() and form.c.data:
        try:
            campaign = marketers.clean_campaign_tag(form.c.data)
        except DomainError:
            form.c.errors = [*form.c.errors, _("Use lower-case Latin letters, digits, - and _ (up to 32), "
                                               "starting with a letter or digit.")]
    link = _link(marketer.code, campaign)
    context = {"marketer": marketer, "form": form, "campaign": campaign, "link": link, "qr": qr_svg(link, svgclass="partner-qr-svg")}
    if wants_fragment("campaign-link"):
        return render_block("partner/dashboard.html", "campaign_link", **context)
    entries, _more = marketers.entries_page(db.session, marketer.id, page=1, per_page=RECENT_ENTRIES)
    context.update(
        plain_link=_link(marketer.code, None),
        funnel=stats.funnel(db.session, marketer_id=marketer.id),
        campaigns=marketers.campaign_funnels(db.session, marketer.id),
        earnings=marketers.earnings(db.session, marketer.id), entries=entries,
    )
    return render_template("partner/dashboard.html", **context)


def _link(code: str, campaign: str | None) -> str:
    return request.host_url.rstrip("/") + marketers.link_path(code, campaign)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@commits
def set_password(token: str):
    secret = current_app.config["SECRET_KEY"]
    try:
        marketer = marketers.marketer_for_password_token(db.session, token, secret=secret)
    except DomainError:
        return render_template("partner/link_expired.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        with refusal(form, field="password", say=_("The password must be at least 8 characters.")):
            marketers.set_password(marketer, form.password.data, now=utcnow())
            after_commit(lambda: login_user(marketer))
            flash(_("Your password is saved. Welcome!"), "success")
            return redirect(url_for(".dashboard"))
    return _failed("partner/set_password.html", form=form, marketer=marketer)
