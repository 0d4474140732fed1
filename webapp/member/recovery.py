"""Ways back in when the password is lost or was never set: a reset link by
e-mail, a reset code by SMS, and signing in with an SMS code. Every request
answers the same for known and unknown accounts; the codes and links are the
service's (`services.members.recovery`), the messages go out after commit."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask import session as browser
from flask_babel import gettext as _
from flask_login import login_user

from webapp.auth import current_member, safe_next
from webapp.extensions import db, limiter
from webapp.member import bp, invite_cookies
from webapp.member.forms import CodeLoginForm, ForgotPasswordForm, NewPasswordForm, ResetCodeForm
from webapp.member.messages import add_domain_error
from webapp.models import utcnow
from webapp.services import referrals
from webapp.services.errors import DomainError
from webapp.services.members import recovery
from webapp.transaction import after_commit, commits, refusal

# the address a code was asked for, so the next page knows where it went
RESET_MOBILE = "vafa_reset_mobile"
CODE_MOBILE = "vafa_code_mobile"
SENT_EMAIL = "vafa_reset_email"
# one count per typed address, shared by every page that sends a code or link
ADDRESS_SCOPE = "recovery-address"


def _ip_limit() -> str:
    return current_app.config["RECOVERY_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["RECOVERY_ADDRESS_RATE_LIMIT"]


def _address_key() -> str:
    """The typed e-mail or mobile, normalised: "09…", "+98…" and Persian digits
    are one address."""
    raw = request.form.get("login") or request.form.get("mobile") or ""
    try:
        return f"recovery:{recovery.parse_login(raw).address}"
    except DomainError:
        return f"recovery:{raw.strip().lower()[:254]}"


def _too_often(_limit):
    message = _("Too many codes or links were asked for this address. Please try again in an hour.")
    return make_response(render_template("errors/error.html", status=429, message=message), 429)


def _checking_code() -> bool:
    return bool((request.form.get("code") or "").strip())


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _bad_login() -> str:
    return _("Enter a valid e-mail address or mobile number.")


def _wrong_code() -> str:
    return _("That code is wrong, used or expired. Check the SMS or ask for a new code.")


def _page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.shared_limit(_address_limit, ADDRESS_SCOPE, key_func=_address_key, methods=["POST"], on_breach=_too_often)
@commits
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with refusal(form, field="login", say=_bad_login()):
            where = recovery.request_reset(db.session, form.login.data, secret_key=_secret(),
                                           config=current_app.config, now=utcnow())
            if where.channel == "sms":
                browser[RESET_MOBILE] = where.address
                return redirect(url_for(".reset_with_code"))
            browser[SENT_EMAIL] = where.address
            return redirect(url_for(".reset_link_sent"))
    return _page("member/password_forgot.html", 422 if request.method == "POST" else 200, form=form)


@bp.get("/password/sent")
def reset_link_sent():
    return render_template("member/password_sent.html", address=browser.get(SENT_EMAIL))


@bp.route("/password/code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@commits
def reset_with_code():
    form = ResetCodeForm(mobile=browser.get(RESET_MOBILE, ""))
    if not form.mobile.data:
        return redirect(url_for(".forgot_password"))
    if form.validate_on_submit():
        with refusal(form, show=add_domain_error):
            member = recovery.reset_with_code(db.session, form.mobile.data, form.code.data, form.password.data,
                                              secret_key=_secret(), now=utcnow())
            if member is not None:
                return _signed_in_after_reset(member, RESET_MOBILE)
            db.session.commit()  # the wrong try counts, though the answer is an error
            form.code.errors = [*form.code.errors, _wrong_code()]
    return _page("member/password_code.html", 422 if request.method == "POST" else 200, form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@commits
def reset_with_link(token: str):
    if recovery.link_holder(db.session, token, secret_key=_secret(), now=utcnow()) is None:
        return _page("member/password_link_dead.html", 404)
    form = NewPasswordForm()
    if form.validate_on_submit():
        with refusal(form, show=add_domain_error):
            member = recovery.reset_with_link(db.session, token, form.password.data, secret_key=_secret(),
                                              now=utcnow())
            if member is not None:
                return _signed_in_after_reset(member, SENT_EMAIL)
            return _page("member/password_link_dead.html", 404)
    return _page("member/password_reset.html", 422 if request.method == "POST" else 200, form=form, token=token)


def _signed_in_after_reset(member, remembered: str):
    """A new password signs out every other session and signs this browser in."""
    browser.pop(remembered, None)
    after_commit(lambda: login_user(member))
    flash(_("Your new password is saved. Every other device is signed out."), "success")
    return redirect(url_for(".dashboard"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.shared_limit(_address_limit, ADDRESS_SCOPE, key_func=_address_key, methods=["POST"],
                      exempt_when=_checking_code, on_breach=_too_often)
@commits
def login_with_code():
    if current_member():
        return redirect(url_for(".dashboard"))
    if request.args.get("again"):
        browser.pop(CODE_MOBILE, None)
    form = CodeLoginForm(mobile=browser.get(CODE_MOBILE, ""), next=request.args.get("next", ""))
    if form.validate_on_submit():
        answer = _check_code(form) if _checking_code() else _ask_for_code(form)
        if answer is not None:
            return answer
    step = "code" if form.mobile.data and (browser.get(CODE_MOBILE) or form.code.data) else "mobile"
    return _page("member/login_code.html", 422 if request.method == "POST" else 200, form=form, step=step)


def _ask_for_code(form):
    """Step one: text a code (to a member's mobile only), then ask for it."""
    with refusal(form, field="mobile", say=_("This is not a valid mobile number.")):
        where = recovery.request_sign_in_code(db.session, form.mobile.data, secret_key=_secret(), now=utcnow())
        browser[CODE_MOBILE] = where.address
        return redirect(url_for(".login_with_code", next=form.next.data or None))
    return None


def _check_code(form):
    """Step two: the code signs the member in, or the form says why not."""
    member = recovery.sign_in_with_code(db.session, form.mobile.data, form.code.data, secret_key=_secret(),
                                        now=utcnow())
    if member is None:
        db.session.commit()  # the wrong try counts, though the answer is an error
        form.code.errors = [*form.code.errors, _wrong_code()]
        return None
    browser.pop(CODE_MOBILE, None)
    # as /login does: a friend later joining from this device is the member themself
    referrals.remember_device(db.session, member.id, invite_cookies.device_visitor(), utcnow())
    after_commit(lambda: login_user(member))
    return redirect(safe_next(form.next.data, url_for(".dashboard")))
