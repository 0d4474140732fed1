"""The links inside messages, used without signing in: the unsubscribe page
(with RFC 8058 one-click POSTs from mail providers), the e-mail open pixel and
the click redirect. Each token is signed (`services.messages.links`): it is the
only authority, so a forged or altered one changes nothing."""

from __future__ import annotations

import base64

from flask import abort, current_app, g, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_wtf import FlaskForm

from webapp.club import current_club
from webapp.extensions import csrf, db, limiter
from webapp.member import bp
from webapp.models import utcnow
from webapp.services.messages import links, tracking
from webapp.services.messages.render import DEFAULT_CLUB, member_locale
from webapp.transaction import commits

# the smallest transparent GIF (1×1)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, private",
            "Pragma": "no-cache", "Expires": "0"}
ONE_CLICK = "One-Click"
# what stops, per channel
WHAT_STOPS = {
    "email": _l("e-mail news and offers from %(club)s"),
    "sms": _l("SMS news and offers from %(club)s"),
    "push": _l("notifications with news and offers from %(club)s"),
}


class UnsubscribeForm(FlaskForm):
    """Only the CSRF token: the link's token says who and which channel."""


def _unsubscribe_limit() -> str:
    return current_app.config["UNSUBSCRIBE_RATE_LIMIT"]


def _speak(locale: str) -> None:
    """The page in the member's language, whoever opens the link."""
    g.vafa_locale = locale
    refresh()


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # a provider's one-click POST has no CSRF token; the signed token is the authority
@limiter.limit(_unsubscribe_limit)
@commits
def unsubscribe(token: str):
    target = links.unsubscribe_target(current_app.config, token)
    member = tracking.subscriber(db.session, *target) if target else None
    if member is None:
        return render_template("member/unsubscribe_invalid.html"), 404
    channel = target[1]
    locale = member_locale(member, current_app.config)
    _speak(locale)
    club = current_club().name or str(DEFAULT_CLUB[locale])
    words = {"what": WHAT_STOPS[channel] % {"club": club}, "channel": channel, "token": token}
    form = UnsubscribeForm()
    if request.method == "POST" and (request.form.get("List-Unsubscribe") == ONE_CLICK or form.validate_on_submit()):
        tracking.unsubscribe(member, channel)
        return render_template("member/unsubscribe.html", done=True, **words)
    status = 400 if request.method == "POST" else 200  # an expired form: the button again
    return render_template("member/unsubscribe.html", done=False, form=form, expired=status == 400,
                           **words), status


@bp.get("/m/o/<token>")
@commits
def message_opened(token: str):
    """The open pixel: always the GIF; only a genuine token notes the open."""
    outbox_id = links.opened_id(current_app.config, token)
    if outbox_id is not None:
        tracking.record_open(db.session, outbox_id, now=utcnow())
    return PIXEL, 200, {"Content-Type": "image/gif", **NO_STORE}


@bp.get("/m/c/<token>")
@commits
def message_clicked(token: str):
    """The click redirect: to exactly the signed address, never elsewhere."""
    target = links.click_target(current_app.config, token)
    if target is None:
        abort(404)
    outbox_id, url = target
    tracking.record_click(db.session, outbox_id, now=utcnow())
    response = redirect(url, 302)
    response.headers.update(NO_STORE)
    return response
