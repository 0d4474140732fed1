"""Staff pages for instant-win games (under /admin/instant-wins): the list with
plays, wins and points given, a form to define a game (draft), edit it (the
prizes are fixed once anyone has played; their quantities may be raised), and
the publish / end buttons. Every write goes through `services.instant_win`,
which audits it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.admin import bp
from webapp.admin.common import club_tz, eligibility_choices, staff_actor
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
from webapp.extensions import db
from webapp.forms.confirm import ConfirmForm
from webapp.i18n import current_locale
from webapp.models import InstantWinGame, utcnow
from webapp.services.play import instant_win as service

MAX_ID = 2**31 - 1
# service problem keys → the form field that shows them
PROBLEM_FIELDS = {"name": "name_en", "style": "style", "cost_points": "cost_points", "daily_plays": "daily_plays",
                  "closes_at": "closes_on", "points_budget": "points_budget", "min_tier_id": "min_tier",
                  "segment_id": "segment"}
PROBLEM_WORDS = {
    "closes_at": _l("The last day cannot be before the first day."),
    "min_tier_id": _l("That level no longer exists."),
    "segment_id": _l("That segment no longer exists."),
    "odds": _l("The odds of all prizes add up to more than 100%."),
    "prizes": _l("Give at least one prize."),
    "points_budget": _l("The budget cannot be less than the points already given."),
}




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
    return render_template("admin/instant_wins.html", rows=rows, stats=stats, **_words())


@bp.route("/instant-wins/new", methods=["GET", "POST"], endpoint="new_instant_win")
@staff_required("offers")
def new_game():
    form = eligibility_choices(GameForm())
    if form.validate_on_submit():
        try:
            game = service.create_game(db.session, form.spec(club_tz()), actor=staff_actor(), now=utcnow())
        except service.GameInvalid as exc:
            db.session.rollback()
            _show_problems(form, exc)
        else:
            db.session.commit()
            flash(_("The game is saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for(".instant_win", game_id=game.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/instant_win_form.html", form=form, game=None, locked=False, **_words()), status


@bp.route("/instant-wins/<int:game_id>", methods=["GET", "POST"], endpoint="instant_win")
@staff_required("offers")
def game_page(game_id: int):
    game = _game(game_id)
    prizes = service.game_prizes(db.session, game_id)
    stats = service.game_stats(db.session, [game_id]).get(game_id, service.GameStats())
    locked = stats.plays > 0
    saved = form_data(game, prizes, club_tz(), current_locale())
    if request.method == "POST":
        form = eligibility_choices(GameForm(formdata=_with_locked(saved)) if locked else GameForm())
    else:
        form = eligibility_choices(GameForm(formdata=None, data=saved))
    if request.method == "POST" and form.validate_on_submit():
        try:
            service.update_game(db.session, game_id, form.spec(club_tz()), actor=staff_actor(), now=utcnow())
        except service.GameInvalid as exc:
            db.session.rollback()
            _show_problems(form, exc)
        except service.GameLocked:
            db.session.rollback()
            form.form_errors.append(_("Members have played this game: its prizes are fixed. You can only raise "
                                      "how many of each there are."))
        except service.GameWrongStatus:
            db.session.rollback()
            form.form_errors.append(_("An ended game cannot be edited."))
        else:
            db.session.commit()
            flash(_("The game is saved."), "success")
            return redirect(url_for(".instant_win", game_id=game_id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/instant_win_form.html", form=form, game=game, prizes=prizes, stats=stats,
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
def publish_game(game_id: int):
    return _status_change(game_id, service.publish_game,
                          _("The game is published: eligible members can play it from its first day."))


@bp.post("/instant-wins/<int:game_id>/end", endpoint="end_instant_win")
@staff_required("offers")
def end_game(game_id: int):
    return _status_change(game_id, service.end_game, _("The game has ended. What members won stays theirs."))


def _status_change(game_id: int, change, done: str):
    _game(game_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        change(db.session, game_id, actor=staff_actor(), now=utcnow())
    except service.GameWrongStatus as exc:
        db.session.rollback()
        flash(_status_refusal(exc), "error")
    except (service.GameInvalid, ValueError):
        db.session.rollback()
        flash(_("Give the game at least one prize, with odds adding up to at most 100%, before publishing."),
              "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for(".instant_win", game_id=game_id))


def _status_refusal(exc: service.GameWrongStatus) -> str:
    if exc.details.get("status") == "ended":
        return _("The game has already ended.")
    if exc.details.get("status") == "active":
        return _("The game is already published.")
    return _("The game's last day has passed: change its days before publishing.")


def _show_problems(form: GameForm, exc: service.GameInvalid) -> None:
    """The service has the last word (e.g. a reward archived meanwhile)."""
    for key in exc.problems:
        if key.startswith("prize-"):
            _, n, name = key.split("-", 2)
            rows = [row.form for row in form.prizes if not row.form.empty]
            field = getattr(rows[int(n)], {"reward_id": "reward"}.get(name, name), None) if int(n) < len(rows) \
                else None
        else:
            field = getattr(form, PROBLEM_FIELDS.get(key, ""), None)
        message = PROBLEM_WORDS.get(key) or _("This value is not valid.")
        if field is not None:
            field.errors = [*field.errors, str(message)]
        else:
            form.form_errors.append(str(message))
