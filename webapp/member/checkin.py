"""The daily check-in card on /me and its button (htmx, with a plain form fallback)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_wtf import FlaskForm

from webapp import htmx
from webapp.auth import current_member, member_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.member import bp
from webapp.models import utcnow
from webapp.services.offers import checkin
from webapp.transaction import commits, refusal, reread


class CheckInForm(FlaskForm):
    """Only the CSRF token travels."""


def dashboard_facts(member, now) -> dict:
    """The `facts` the card needs when /me fetches its cards' facts together."""
    return {"checkin": checkin.last_fact(member.id)}


def dashboard_state(member, now, found: dict | None = None):
    """What the checkin card on /me shows (None: no card)."""
    last = {"last": checkin.last_of(found["checkin"])} if found is not None else {}
    state = checkin.card_state(db.session, member, now=now, tz=current_club().timezone, **last)
    if state is None:
        return None
    return {"state": state, "form": CheckInForm(), "result": None}


@bp.post("/me/checkin")
@member_required
@commits
def check_in():
    form = CheckInForm()
    member, now = current_member(), utcnow()
    result = None
    if form.validate_on_submit():
        with refusal(category=None):  # the card shows why
            result = checkin.check_in(db.session, member.id, now=now,
                                      tz=current_club().timezone)
            reread()
    if not is_htmx():
        return redirect(url_for(".dashboard"))
    card = dashboard_state(member, now)
    if card is None:
        return ""
    card["result"], card["balance"] = result, member.points_balance
    response = current_app.make_response(render_template("_partials/checkin_card.html",
                                                         checkin_card=card))
    if result is not None and result.points:
        htmx.trigger(response)
    return response
