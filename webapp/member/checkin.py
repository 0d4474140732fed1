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
from webapp.services.errors import DomainError
from webapp.services.offers import checkin


class CheckInForm(FlaskForm):
    """Only the CSRF token travels."""


def dashboard_state(member, now):
    """What the checkin card on /me shows (None: no card)."""
    state = checkin.card_state(db.session, member, now=now, tz=current_club().timezone)
    if state is None:
        return None
    return {"state": state, "form": CheckInForm(), "result": None}


@bp.post("/me/checkin")
@member_required
def check_in():
    form = CheckInForm()
    member, now = current_member(), utcnow()
    result = None
    if form.validate_on_submit():
        try:
            result = checkin.check_in(db.session, member.id, now=now,
                                      tz=current_club().timezone)
        except DomainError:
            db.session.rollback()
        else:
            db.session.commit()
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
