"""Member pages for instant-win games: the list (/play/spin) with the member's
recent plays, a game (/play/spin/<id>) with its prizes, published odds and
what is left, and playing it. The outcome is decided on the server
(`services.instant_win.play`); the page only shows it. The play form's
one-time token is the request key, so a double submit plays once. htmx swaps
the result into the page; without JavaScript the POST redirects to the play's
own page (/play/spin/plays/<id>), which only its member can see."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from games.instant_win import ODDS_SCALE
from webapp.auth import current_member, member_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.htmx import POINTS_CHANGED, event_headers, is_htmx
from webapp.i18n import format_money, format_number
from webapp.member import bp
from webapp.member.inbox import KIND_TEMPLATES
from webapp.member.messages import add_domain_error
from webapp.models import utcnow
from webapp.services.errors import DomainError, NotFound
from webapp.services.play import instant_win, registry
from webapp.transaction import commits, refusal, reread

TEMPLATES = registry.get("instant_win").templates  # the kind's registry entry names its pages

MAX_ID = 2**31 - 1
MAX_PLAY_ID = 2**63 - 1
HISTORY = 20
TURNS = 5  # whole turns of the wheel before it stops on the roll

KIND_TEMPLATES.setdefault("instant_win", "_partials/inbox_instant_win.html")


class PlayForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(_l("This form has expired. Please try again.")),
                                    Length(max=64, message=_l("This form has expired. Please try again."))])


def prize_value(prize) -> str | None:
    """What a points or credit prize is worth (a catalog reward is its name)."""
    if prize.kind == "points":
        return _("%(points)s points", points=format_number(prize.value))
    if prize.kind == "credit":
        return _("%(amount)s of store credit", amount=format_money(prize.value))
    return None


def odds_words(odds_ppm: int) -> str:
    return _("1 in %(n)s", n=format_number(instant_win.one_in(odds_ppm)))


# -- the wheel: an inline SVG, slices as wide as their odds ------------------------------------


@dataclass(frozen=True)
class Slice:
    path: str
    css: str  # a class for the fill (the CSP forbids style attributes)


def _point(angle: float, r: float = 96.0) -> str:
    rad = math.radians(angle)
    return f"{100 + r * math.sin(rad):.2f} {100 - r * math.cos(rad):.2f}"


def wheel_slices(prizes) -> list[Slice]:
    """The prizes end to end clockwise from the top, as the engine lays them on
    [0, ODDS_SCALE), then the no-win rest."""
    ranges, start = [], 0
    for n, prize in enumerate(prizes):
        ranges.append((start, start + prize.odds_ppm, f"wheel-slice-{n % 6}"))
        start += prize.odds_ppm
    if start < ODDS_SCALE:
        ranges.append((start, ODDS_SCALE, "wheel-slice-none"))
    slices = []
    for low, high, css in ranges:
        a0, a1 = low * 360 / ODDS_SCALE, high * 360 / ODDS_SCALE
        if a1 - a0 >= 359.999:
            path = "M 100 4 A 96 96 0 1 1 99.99 4 Z"
        else:
            large = 1 if a1 - a0 > 180 else 0
            path = f"M 100 100 L {_point(a0)} A 96 96 0 {large} 1 {_point(a1)} Z"
        slices.append(Slice(path, css))
    return slices


def wheel_stop(roll: int) -> str:
    """The rotation (degrees) that brings the roll's point under the pointer at the top."""
    return f"{TURNS * 360 - roll * 360 / ODDS_SCALE:.3f}"


@bp.app_context_processor
def _instant_win_words() -> dict:
    return {"prize_value": prize_value, "odds_words": odds_words, "wheel_slices": wheel_slices,
            "wheel_stop": wheel_stop}


# -- pages --------------------------------------------------------------------------------------


@bp.get("/play/spin", endpoint="instant_wins")
@member_required
def games_page():
    member, now = current_member(), utcnow()
    games = instant_win.open_games(db.session, member, now)
    plays = instant_win.member_plays(db.session, member.id, limit=HISTORY)
    return render_template(TEMPLATES["list"], games=games, plays=plays)


def _game_page(game_id: int, form: PlayForm, *, result=None, refusal: str | None = None, status: int = 200,
               fragment: bool = False):
    try:
        view = instant_win.member_game(db.session, current_member(), game_id, utcnow(), current_club().timezone)
    except NotFound:
        abort(404)
    context = {"view": view, "game": view.game, "form": form, "result": result, "token": secrets.token_urlsafe(18),
               "refusal": refusal or (_refusal_words(view.refusal) if view.refusal else None),
               "plays": instant_win.member_plays(db.session, current_member().id, game_id=game_id, limit=10)}
    if fragment:
        return render_block(TEMPLATES["play"], "stage", **context), status
    return render_template(TEMPLATES["play"], **context), status


@bp.get("/play/spin/<int:game_id>", endpoint="instant_win")
@member_required
def game_page(game_id: int):
    if game_id > MAX_ID:
        abort(404)
    return _game_page(game_id, PlayForm(formdata=None))


@bp.post("/play/spin/<int:game_id>", endpoint="instant_win_play")
@member_required
@commits
def play(game_id: int):
    if game_id > MAX_ID:
        abort(404)
    form = PlayForm()
    htmx = is_htmx()
    if not form.validate_on_submit():
        # htmx does not swap a 4xx answer: it gets the stage with the error instead
        return _game_page(game_id, form, refusal=str((form.token.errors or form.form_errors or [""])[0])
                          or _("This form has expired. Please try again."),
                          status=200 if htmx else 422, fragment=htmx)
    member_id = current_member().id
    with refusal(category=None) as refused:  # the stage says why
        try:
            result = instant_win.play(db.session, member_id=member_id, game_id=game_id,
                                      request_key=f"{member_id}:{form.token.data}", now=utcnow(), tz=current_club().timezone)
        except NotFound:
            abort(404)
        if htmx:
            reread()
            response, status = _game_page(game_id, PlayForm(formdata=None), result=result, fragment=True)
            return response, status, event_headers(POINTS_CHANGED)
        return redirect(url_for(".instant_win_result", play_id=result.play.id), 303)
    # htmx does not swap a 4xx answer: it gets the stage with the refusal instead
    return _game_page(game_id, form, refusal=_refusal_words(refused.error), status=200 if htmx else 422,
                      fragment=htmx)


def _refusal_words(exc: DomainError) -> str:
    """The member's words for why they cannot play (messages.DOMAIN_ERRORS)."""
    holder = PlayForm(formdata=None)
    add_domain_error(holder, exc)
    return str((holder.form_errors or [""])[0])


@bp.get("/play/spin/plays/<int:play_id>", endpoint="instant_win_result")
@member_required
def result_page(play_id: int):
    if play_id > MAX_PLAY_ID:
        abort(404)
    try:
        found, game, prize = instant_win.member_play(db.session, current_member().id, play_id)
    except NotFound:
        abort(404)  # someone else's play looks exactly like one that does not exist
    return render_template(TEMPLATES["result"], play=found, game=game, prize=prize,
                           prizes=instant_win.game_prizes(db.session, game.id))
