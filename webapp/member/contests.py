"""Member pages for contests: the list (/contests, the Play tab) with the play
streak, a contest's page (/contests/<id>) with its kind's play partial (from
the registry) and the live leaderboard, the quiz played one question at a
time, and predictions. Timing is the server's; the correct option reaches the
browser only in the answer's result."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from redis.exceptions import RedisError

from webapp import htmx
from webapp.auth import current_member, member_required
from webapp.club import current_club
from webapp.extensions import db
from webapp.htmx import wants_fragment
from webapp.i18n import ascii_digits, current_locale
from webapp.member import bp
from webapp.member import inbox as inbox_pages
from webapp.member.messages import add_domain_error
from webapp.models import ContestQuestion, utcnow
from webapp.services.errors import NotFound
from webapp.services.play import contest_list, contest_play, leaderboards, registry
from webapp.transaction import after_commit, commits, refusal
from webapp.uploads import send_picture

MAX_ID = 2**31 - 1


class ContestForm(FlaskForm):
    """CSRF only: the fields are read by the views (option buttons, numbers)."""


def _redis():
    return current_app.extensions["vafa_redis"]


def _contest(contest_id: int):
    if contest_id > MAX_ID:
        abort(404)
    try:
        return contest_play.playable(db.session, contest_id)
    except NotFound:
        abort(404)


def option_text(option: dict) -> str:
    return option.get(current_locale()) or option.get("en") or ""


@bp.app_context_processor
def _contest_words() -> dict:
    return {"option_text": option_text, "game_tabs": registry.tabs}


@bp.get("/contests/image/<name>")
def contest_image(name: str):
    """Question pictures: random names, linked only from a question already served."""
    return send_picture("contests", name)


@bp.get("/contests", endpoint="contests")
@member_required
def contests_page():
    now = utcnow()
    listing = contest_list.member_contests(db.session, current_member().id, now, current_club().timezone)
    return render_template("member/contests.html", listing=listing, streak=listing.streak, now=now,
                           kind_labels=registry.labels("contest"))


def _contest_page(contest, *, form=None, status: int = 200, **extra):
    now = utcnow()
    member_id = current_member().id
    entry = contest_play.entry_of(db.session, contest.id, member_id)
    board = leaderboards.board(db.session, _redis(), contest, member_id)
    kind = registry.get_type(contest.kind)
    review = kind.review(db.session, contest.id, member_id) \
        if entry is not None and entry.finished_at is not None else []
    context = {"contest": contest, "kind": kind, "entry": entry, "board": board,
               "now": now, "form": form or ContestForm(), "review": review,
               "is_open": contest.status == "published" and contest.opens_at <= now < contest.closes_at, **extra}
    return render_template("member/contest.html", **context), status


@bp.get("/contests/<int:contest_id>", endpoint="contest")
@member_required
def contest_page(contest_id: int):
    return _contest_page(_contest(contest_id))


@bp.get("/contests/<int:contest_id>/board", endpoint="contest_board")
@member_required
def contest_board(contest_id: int):
    """The leaderboard partial that the contest page polls every 5 s while live."""
    contest = _contest(contest_id)
    board = leaderboards.board(db.session, _redis(), contest, current_member().id)
    if wants_fragment():
        return render_template("_partials/contest_board.html", contest=contest, board=board,
                               kind=registry.get_type(contest.kind))
    return redirect(url_for(".contest", contest_id=contest_id))


@bp.post("/contests/<int:contest_id>/start", endpoint="contest_start")
@member_required
@commits
def contest_start(contest_id: int):
    contest = _contest(contest_id)
    form = ContestForm()
    if not form.validate_on_submit():
        abort(400)
    with refusal(form, show=add_domain_error), \
            refusal(only=(contest_play.AlreadyPlayed,), category="info",
                    say=_("You have already played this quiz: one attempt per member.")) as played:
        contest_play.start_attempt(db.session, contest_id=contest.id, member_id=current_member().id, now=utcnow())
        response = redirect(url_for(".contest_play", contest_id=contest_id))
        if contest.entry_cost:
            htmx.trigger(response)
        return response
    if played:
        return redirect(url_for(".contest", contest_id=contest_id))
    return _contest_page(contest, form=form, status=409)


@bp.get("/contests/<int:contest_id>/play", endpoint="contest_play")
@member_required
@commits
def contest_play_page(contest_id: int):
    contest = _contest(contest_id)
    served = None
    with refusal(only=(NotFound,), category=None), \
            refusal(only=(contest_play.ContestNotOpen,), say=_("This contest is closed."), category="info"):
        served = contest_play.current_question(db.session, contest_id=contest.id, member_id=current_member().id,
                                               now=utcnow())
    if served is None:
        return redirect(url_for(".contest", contest_id=contest_id))
    context = {"contest": contest, "served": served, "form": ContestForm(), "now": utcnow()}
    if wants_fragment():
        return render_block("member/contest_question.html", "play", **context)
    return render_template("member/contest_question.html", **context)


@bp.post("/contests/<int:contest_id>/answer", endpoint="contest_answer")
@member_required
@commits
def contest_answer(contest_id: int):
    contest = _contest(contest_id)
    form = ContestForm()
    if not form.validate_on_submit():
        abort(400)
    question_id, option = _int(request.form.get("question")), _int(request.form.get("option"))
    if question_id is None or option is None or question_id > MAX_ID:
        abort(400)
    with refusal(only=(contest_play.ContestNotOpen,), say=_("This contest is closed."), category="info"):
        try:
            result = contest_play.answer_question(db.session, contest_id=contest.id, member_id=current_member().id,
                                                  question_id=question_id, option=option, now=utcnow())
        except NotFound:
            abort(404)
        except contest_play.AnswerInvalid:
            abort(400)
        return _answered(contest, question_id, result)
    return redirect(url_for(".contest", contest_id=contest_id))


def _answered(contest, question_id: int, result):
    question = db.session.get(ContestQuestion, question_id)
    if result.finished is not None:
        layout = registry.get_type(contest.kind).layout(db.session, contest)
        after_commit(lambda: _record(contest.id, layout, result.finished))
    context = {"contest": contest, "question": question, "result": result, "form": ContestForm()}
    if wants_fragment():
        return render_block("member/contest_answered.html", "play", **context)
    return render_template("member/contest_answered.html", **context)


@bp.post("/contests/<int:contest_id>/predict", endpoint="contest_predict")
@member_required
@commits
def contest_predict(contest_id: int):
    contest = _contest(contest_id)
    form = ContestForm()
    if not form.validate_on_submit():
        abort(400)
    count = registry.get_type(contest.kind).value_count(contest.settings or {})
    values = [_int(request.form.get(f"value_{i}")) for i in range(count)]
    if any(v is None for v in values):
        form.form_errors.append(_("Fill in your prediction with whole numbers."))
        return _contest_page(contest, form=form, status=422)
    with refusal(form, show=add_domain_error, say={
            contest_play.AnswerInvalid: _("That prediction is not one of the possible answers.")}) as refused:
        contest_play.predict(db.session, contest_id=contest.id, member_id=current_member().id,
                             value=tuple(values), now=utcnow())
        flash(_("Your prediction is saved. You can change it until the deadline."), "success")
        return redirect(url_for(".contest", contest_id=contest_id))
    return _contest_page(contest, form=form,
                         status=422 if isinstance(refused.error, contest_play.AnswerInvalid) else 409)


def _record(contest_id: int, layout, finished) -> None:
    """On the board once the answer is committed."""
    try:
        leaderboards.record_attempt(_redis(), contest_id, layout, finished)
    except RedisError:  # the answer is saved; `vafa games rebuild-leaderboards` puts it on the board
        current_app.logger.exception("contest %s: the board missed member %s", contest_id, finished.member_id)


def _int(text: str | None) -> int | None:
    text = ascii_digits((text or "").strip())
    if not text or not text.lstrip("-").isdigit() or len(text) > 12:
        return None
    return int(text)


# the inbox words the finalise job's message with its own template
inbox_pages.KIND_TEMPLATES.setdefault("contest_result", "_partials/inbox_contest_result.html")
