"""Member pages. Thin views: form → one service call → commit → render.
Member pages only ever show `current_user`'s own data: no member ids in URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import login_user, logout_user
from jinja2_fragments.flask import render_block

from webapp.auth import current_member, member_required, safe_next
from webapp.club import current_club
from webapp.extensions import db, limiter
from webapp.htmx import is_htmx
from webapp.i18n import LOCALE_COOKIE, current_locale
from webapp.member import bp
from webapp.member.forms import JoinForm, LocaleForm, LoginForm, LogoutForm, SettingsForm
from webapp.member.messages import add_domain_error, currency_label, entry_about, kind_label
from webapp.models import utcnow
from webapp.services import ledger, referrals, tiers
from webapp.services.ledger import activity as activity_service
from webapp.services.members import accounts, facts
from webapp.transaction import after_commit, commits, refusal

EXPIRY_WINDOW = timedelta(days=30)
LOCALE_COOKIE_AGE = 365 * 24 * 3600
MAX_ID = 2**63 - 1


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _join_limit() -> str:
    return current_app.config["JOIN_RATE_LIMIT"]


def _failed(template: str, **context):
    """A form page; 422 when a submitted form was refused."""
    return render_template(template, **context), 422 if request.method == "POST" else 200


def _remember_locale(response, locale: str):
    response.set_cookie(
        LOCALE_COOKIE, locale, max_age=LOCALE_COOKIE_AGE, httponly=True, samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", True),
    )
    return response


@bp.app_context_processor
def _club_context() -> dict:
    # app-wide: the shared base and error pages show the club's name too
    return {
        "club_name": current_club().name or _("Vafa club"),
        "kind_label": kind_label,
        "currency_label": currency_label,
        "entry_about": entry_about,
    }


@bp.get("/")
def landing():
    return render_template("member/landing.html")


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_join_limit, methods=["POST"])
@commits
def join():
    if current_member():
        return redirect(url_for(".dashboard"))
    visitor = invite_cookies.device_visitor()
    link, offer = invites.join_offer()
    form = JoinForm()
    if form.validate_on_submit():
        now = utcnow()
        with refusal(form, show=add_domain_error):
            ids = accounts.normalise_identifiers(form.email.data, form.mobile.data)
            member = accounts.create_member(
                db.session, ids=ids, password=form.password.data, now=now,
                display_name=form.display_name.data or "", locale=current_locale(), welcome=True,
            )
            # the same transaction: a member and who brought them, or neither
            referrals.on_join(db.session, member, link, now=now, visitor=visitor,
                              ip_hash=invite_cookies.ip_digest())
            invite_cookies.forget_attribution()
            after_commit(lambda: login_user(member))
            flash(_("Welcome to the club!"), "success")
            return redirect(url_for(".dashboard"))
    return _failed("member/join.html", form=form, inviter=link.name if link else None, offer=offer)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@commits
def login():
    form = LoginForm(next=request.args.get("next", ""))
    invite_cookies.device_visitor()
    if current_member():
        return redirect(safe_next(form.next.data, url_for(".dashboard")))
    if form.validate_on_submit():
        member = accounts.authenticate(db.session, form.login.data, form.password.data, utcnow())
        if member is not None:
            # a friend later joining from this device is the member themself
            referrals.remember_device(db.session, member.id, invite_cookies.device_visitor(), utcnow())
            after_commit(lambda: login_user(member, remember=form.remember.data))
            return redirect(safe_next(form.next.data, url_for(".dashboard")))
        # one answer for unknown accounts, wrong passwords and closed accounts
        form.form_errors.append(_("That e-mail or mobile number and password do not match."))
    return _failed("member/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
@commits
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        member = current_member()
        if member is not None and form.everywhere.data:
            accounts.sign_out_everywhere(member)
        logout_user()
        flash(_("You are signed out. See you soon!"), "info")
        return redirect(url_for(".landing"))
    return render_template("member/logout.html", form=form)


@bp.post("/locale")
@commits
def set_locale():
    form = LocaleForm()
    if not form.validate_on_submit():
        abort(400)
    member = current_member()
    if member is not None:
        accounts.update_settings(member, locale=form.locale.data)
    return _remember_locale(redirect(safe_next(form.next.data, url_for(".landing"))), form.locale.data)


@bp.get("/me")
@member_required
def dashboard():
    member, now = current_member(), utcnow()
    # the cards' small facts in one query; the club's configuration comes cached
    found = facts.fetch(db.session, {
        "expiring": ledger.expiring_fact(member.id, now, now + EXPIRY_WINDOW),
        **checkin.dashboard_facts(member, now), **challenges.dashboard_facts(member, now),
        **rewards.dashboard_facts(member, now)})
    recent = activity_service.member_activity(db.session, member.id, limit=5).entries
    program = tiers.load_program(db.session)
    tz = current_club().timezone
    progress = tiers.member_progress(db.session, member, now, tz, program) if program else None
    return render_template(
        "member/dashboard.html", member=member, recent=recent, program=program, progress=progress,
        expiring=points_by_day(ledger.expiring_of(found["expiring"]), now, tz),
        # cards of the offer engine; each module decides whether it has one to show
        checkin_card=checkin.dashboard_state(member, now, found),
        challenges_card=challenges.dashboard_state(member, now, found),
        rewards_card=rewards.dashboard_state(member, now, found),
        invite_card=invites.dashboard_state(member),
    )


def points_by_day(expiring, now: datetime, tz: str) -> list[tuple]:
    """Lots expire at any time of day: the member sees one line per local day,
    (day, points, days from today)."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    days: dict = {}
    for expires_at, points in expiring:
        day = expires_at.astimezone(zone).date()
        days[day] = days.get(day, 0) + int(points)
    return [(day, points, (day - today).days) for day, points in sorted(days.items())]


@bp.get("/me/activity")
@member_required
def activity():
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before <= MAX_ID else None
    page = activity_service.member_activity(db.session, current_member().id, before_id=before)
    if is_htmx():
        return render_block("member/activity.html", "entries", page=page, before=before)
    return render_template("member/activity.html", page=page, before=before)


@bp.route("/me/settings", methods=["GET", "POST"])
@member_required
@commits
def settings():
    member = current_member()
    form = SettingsForm(data={
        "display_name": member.display_name, "locale": member.locale or current_locale(),
        "consent_email": member.consent_email, "consent_sms": member.consent_sms,
        "birthday": member.birthday,
    })
    if form.validate_on_submit():
        accounts.save_profile(
            db.session, member, now=utcnow(), birthday=form.birthday.data,
            locale=form.locale.data, consent_email=form.consent_email.data,
            consent_sms=form.consent_sms.data, display_name=form.display_name.data or "",
        )
        g.pop("vafa_locale", None)
        refresh()  # say "saved" in the language just chosen
        flash(_("Your settings are saved."), "success")
        return _remember_locale(redirect(url_for(".settings")), form.locale.data)
    return _failed("member/settings.html", form=form, member=member)


# the tier and inbox pages register on the same blueprint
from webapp.member import inbox, tiers as tier_pages  # noqa: E402,F401,I001
from webapp.member import checkin, challenges, rewards  # noqa: E402,F401,I001
from webapp.member import contests, instant_win, raffles  # noqa: E402,F401,I001
from webapp.member import invite_cookies, invites  # noqa: E402,F401,I001
from webapp.member import recovery as recovery_pages  # noqa: E402,F401,I001
from webapp.member import message_links, push  # noqa: E402,F401,I001
from webapp.member import surveys as survey_pages  # noqa: E402,F401,I001
from webapp.member import feedback  # noqa: E402,F401,I001
