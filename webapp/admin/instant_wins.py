"""Staff pages for instant-win games (under /admin/instant-wins): the list with
plays, wins and points given, a form to define a game (draft), edit it (the
prizes are fixed once anyone has played; their quantities may be raised), and
the publish / end buttons. Every write goes through `services.instant_win`,
which audits it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.admin import bp
from webapp.admin.common import eligibility_choices, staff_actor
from webapp.admin.instant_win_forms import (
    KIND_LABELS,
    MAX_ROWS,
    PRIZE_FIELDS,
    STATUS_LABELS,
    STYLE_LABELS,
    GameForm,
    form_data,
)
from webapp.auth import staff_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale
from webapp.models import InstantWinGame, utcnow
from webapp.services.play import instant_win as service
from webapp.services.play import registry
from webapp.transaction import commits, refusal

TEMPLATES = registry.get("instant_win").templates  # the kind's registry entry names its pages

MAX_ID = 2**31 - 1
# service problem keys → the form field that shows them
PROBLEM_FIELDS = {"name": "name_en", "style": "style", "cost_points": "cost_points", "daily_plays": "daily_plays",
                  "closes_at": "closes_on", "points_budget": "points_budget", "min_tier_id": "min_tier",
                  "segment_id": "segment"}




def _game(game_id: int) -> InstantWinGame:
    game = db.session.get(InstantWinGame, game_id) if game_id <= MAX_ID else None
    if game is None:
        abort(404)
    return game


def _words() -> dict:
    return {"status_labels": STATUS_LABELS, "style_labels": STYLE_LABELS, "kind_labels": KIND_LABELS,
            "one_in": service.one_in}


@bp.get("/instant-wins", endpoint="instant_wins")
@staff_required("offers")
def games():
    rows = list(db.session.scalars(select(InstantWinGame).order_by(InstantWinGame.id.desc())))
    stats = service.game_stats(db.session, [g.id for g in rows])
    return render_template(TEMPLATES["staff_list"], rows=rows, stats=stats, **_words())


@bp.route("/instant-wins/new", methods=["GET", "POST"], endpoint="new_instant_win")
@staff_required("offers")
@commits
def new_game():
    form = eligibility_choices(GameForm())
    if form.validate_on_submit():
        with refusal(form, only=(service.GameInvalid,), fields=_problem_field(form)):
            game = service.create_game(db.session, form.spec(current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The game is saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for(".instant_win", game_id=game.id))
    status = 422 if request.method == "POST" else 200
    return render_template(TEMPLATES["editor"], form=form, game=None, locked=False, **_words()), status


@bp.route("/instant-wins/<int:game_id>", methods=["GET", "POST"], endpoint="instant_win")
@staff_required("offers")
@commits
def game_page(game_id: int):
    game = _game(game_id)
    prizes = service.game_prizes(db.session, game_id)
    stats = service.game_stats(db.session, [game_id]).get(game_id, service.GameStats())
    locked = stats.plays > 0
    saved = form_data(game, prizes, current_club().timezone, current_locale())
    if request.method == "POST":
        form = eligibility_choices(GameForm(formdata=_with_locked(saved)) if locked else GameForm())
    else:
        form = eligibility_choices(GameForm(formdata=None, data=saved))
    if request.method == "POST" and form.validate_on_submit():
        with refusal(form, only=(service.GameInvalid, service.GameLocked, service.GameWrongStatus),
                     fields=_problem_field(form), say={
                         service.GameLocked: _("Members have played this game: its prizes are fixed. You can only "
                                               "raise how many of each there are."),
                         service.GameWrongStatus: _("An ended game cannot be edited.")}):
            service.update_game(db.session, game_id, form.spec(current_club().timezone), actor=staff_actor(), now=utcnow())
            flash(_("The game is saved."), "success")
            return redirect(url_for(".instant_win", game_id=game_id))
    status = 422 if request.method == "POST" else 200
    return render_template(TEMPLATES["editor"], form=form, game=game, prizes=prizes, stats=stats,
                           locked=locked, confirm=ConfirmForm(), **_words()), status


def _with_locked(saved: dict) -> MultiDict:
    """The posted form with the prizes put back to what is saved, except their
    quantities: the page shows the rest disabled (browsers do not send those),
    and a crafted post cannot change them either."""
    shown = GameForm(formdata=None, data=saved, meta={"csrf": False})
    posted = request.form.copy()
    for n in range(MAX_ROWS):
        row = shown.prizes[n].form
        for name in PRIZE_FIELDS:
            if name == "quantity" and n < len(saved["prizes"]):
                continue
            field = row[name]
            posted.setlist(f"prizes-{n}-{name}", [field._value() if hasattr(field, "_value") else
                                                  str(field.data or "")])
    return posted


@bp.post("/instant-wins/<int:game_id>/publish", endpoint="publish_instant_win")
@staff_required("offers")
@commits
def publish_game(game_id: int):
    return _status_change(game_id, service.publish_game,
                          _("The game is published: eligible members can play it from its first day."))


@bp.post("/instant-wins/<int:game_id>/end", endpoint="end_instant_win")
@staff_required("offers")
@commits
def end_game(game_id: int):
    return _status_change(game_id, service.end_game, _("The game has ended. What members won stays theirs."))


def _status_change(game_id: int, change, done: str):
    _game(game_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    refused = _("Give the game at least one prize, with odds adding up to at most 100%, before publishing.")
    # a ValueError: odds the engine cannot draw from
    with refusal(only=(service.GameWrongStatus, service.GameInvalid, ValueError),
                 say={service.GameWrongStatus: _status_refusal, (service.GameInvalid, ValueError): refused}):
        change(db.session, game_id, actor=staff_actor(), now=utcnow())
        flash(done, "success")
    return redirect(url_for(".instant_win", game_id=game_id))


def _status_refusal(exc: service.GameWrongStatus) -> str:
    if exc.details.get("status") == "ended":
        return _("The game has already ended.")
    if exc.details.get("status") == "active":
        return _("The game is already published.")
    return _("The game's last day has passed: change its days before publishing.")


def _problem_field(form: GameForm):
    """A problem's field: a prize's (`prize-N-field`, N counting the filled
    rows) on its row; the rest through PROBLEM_FIELDS, or above the form."""
    def field(problem):
        if problem.field.startswith("prize-"):
            _, n, name = problem.field.split("-", 2)
            rows = [row.form for row in form.prizes if not row.form.empty]
            return getattr(rows[int(n)], {"reward_id": "reward"}.get(name, name), None) if int(n) < len(rows) \
                else None
        return getattr(form, PROBLEM_FIELDS.get(problem.field, ""), None)

    return field
