"""The README's recipe for a new game kind, followed to the letter: a tiny
engine, an adapter with its two templates, one registration line, and the
kind is played through the real app (staff form, publish, the member's
pages, the finalise job, the prize), with no other change to the code.
Also: every registered kind's declared templates and forms exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select, update
from werkzeug.utils import import_string

from games.leaderboard import Entry
from tests.helpers.web import post_form, sign_in_staff
from webapp.extensions import db
from webapp.models import Contest, ContestEntry, LedgerEntry
from webapp.services.play import registry
from webapp.services.play.kinds import ContestKind

PASSWORD = "a-good-password-1"


# -- 1. the engine (in games/ for a real kind): pure, no app ------------------------------


def two_thirds_scores(guesses: dict[int, int]) -> dict[int, int]:
    """Guess two thirds of the average guess: 100 points minus the distance to it."""
    target = Fraction(2, 3) * Fraction(sum(guesses.values()), len(guesses))
    return {member: max(0, 100 - round(abs(guess - target))) for member, guess in guesses.items()}


# -- 2. the adapter (in webapp/services/play/ for a real kind) and its templates -----------


class TwoThirdsType(ContestKind):
    kind = "two_thirds"
    label = "Two thirds"
    tab = ("member.contests", "member.contest", "Contests")
    templates = {"play": "test/_contest_play_two_thirds.html", "editor": "test/_contest_editor_two_thirds.html"}
    play_actions = frozenset({"predict"})  # a number before the deadline, through /contests/<id>/predict
    board_text = "Ranked at the close."
    live_board = False

    def bounds(self, session, contest):
        return 100, 0

    def check_value(self, settings, value):
        if len(value) != 1 or not 0 <= value[0] <= 100:
            raise ValueError("a whole number from 0 to 100")

    def final_entries(self, session, contest):
        rows = list(session.scalars(select(ContestEntry).where(ContestEntry.contest_id == contest.id,
                                                               ContestEntry.prediction.is_not(None))))
        scores = two_thirds_scores({e.member_id: e.prediction[0] for e in rows})
        for entry in rows:
            entry.score, entry.elapsed_ms = scores[entry.member_id], 0
        return [Entry(e.member_id, e.score, 0, e.tie_time) for e in rows]


TEMPLATES = {
    "test/_contest_editor_two_thirds.html":
        '<section class="card" id="two-thirds-editor">Members guess two thirds of the average guess.</section>',
    "test/_contest_play_two_thirds.html": """
<section class="card" id="contest-play">
  {% if entry and entry.prediction is not none %}<p id="two-thirds-mine">My guess: {{ entry.prediction[0] }}</p>{% endif %}
  {% if entry and entry.final_rank %}<p id="two-thirds-rank">Rank {{ entry.final_rank }}</p>{% endif %}
  {% if is_open %}
  <form method="post" action="{{ url_for('member.contest_predict', contest_id=contest.id) }}">
    {{ form.csrf_token }}<input name="value_0" inputmode="numeric"><button type="submit">Guess</button>
  </form>
  {% endif %}
</section>""",
}


@pytest.fixture
def two_thirds(app, monkeypatch):
    """The registration line (in `registry._register_builtin` for a real kind),
    undone after the test; the templates from memory instead of templates/."""
    monkeypatch.setattr(registry, "GAME_KINDS", dict(registry.GAME_KINDS))
    registry.register(TwoThirdsType())
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader]))
    return "two_thirds"


def test_the_engine_scores_distance_to_two_thirds_of_the_average():
    assert two_thirds_scores({1: 30, 2: 60, 3: 90}) == {1: 90, 2: 80, 3: 50}


def _member_client(app, make_member):
    member = make_member(password=PASSWORD)
    client = app.test_client()
    assert post_form(client, "/login", {"login": member.email, "password": PASSWORD}).status_code == 302
    return member, client


def test_a_kind_registered_in_one_line_is_created_played_finalised_and_paid(app, client, make_member, make_staff,
                                                                            two_thirds):
    sign_in_staff(client, make_staff("marketer"))
    assert "New two thirds" in client.get("/admin/contests").get_data(as_text=True)
    today = datetime.now(ZoneInfo("Asia/Tehran")).date()
    response = post_form(client, "/admin/contests/new/two_thirds", {
        "name_fa": "دو سوم", "name_en": "Two thirds of the average", "opens_on": today.isoformat(),
        "opens_time": "00:00", "closes_on": (today + timedelta(days=3)).isoformat(), "closes_time": "20:00",
        "entry_cost": "0", "participation_points": "0",
        "prizes-0-rank_from": "1", "prizes-0-rank_to": "1", "prizes-0-kind": "points", "prizes-0-amount": "500",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    assert 'id="two-thirds-editor"' in client.get(f"/admin/contests/{cid}").get_data(as_text=True)
    assert post_form(client, f"/admin/contests/{cid}/publish", {},
                     form_url=f"/admin/contests/{cid}").status_code == 302

    players = {guess: _member_client(app, make_member) for guess in (30, 60, 90)}
    for guess, (_member, member_client) in players.items():
        assert "Two thirds" in member_client.get("/contests").get_data(as_text=True)
        assert post_form(member_client, f"/contests/{cid}/predict", {"value_0": str(guess)},
                         form_url=f"/contests/{cid}").status_code == 302
    _first, first_client = players[30]
    page = first_client.get(f"/contests/{cid}").get_data(as_text=True)
    assert "My guess: 30" in page and "Ranked at the close." in page
    assert post_form(first_client, f"/contests/{cid}/predict", {"value_0": "101"},
                     form_url=f"/contests/{cid}").status_code == 422  # the adapter's check_value

    from webapp.jobs.contests import finalise_contest
    with app.app_context():
        db.session.execute(update(Contest).where(Contest.id == cid)
                           .values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
        from webapp.services.play import contest_results
        assert cid in contest_results.due_contest_ids(db.session, datetime.now(UTC))
        finalise_contest(cid)
        finalise_contest(cid)  # a retried job pays nothing twice
        ranks = dict(db.session.execute(select(ContestEntry.member_id, ContestEntry.final_rank)
                                        .where(ContestEntry.contest_id == cid)).all())
        assert [ranks[players[g][0].id] for g in (30, 60, 90)] == [1, 2, 3]
        paid = db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.idempotency_key.like(f"contest:{cid}:prize:%"))).all()
        assert [(e.member_id, e.amount) for e in paid] == [(players[30][0].id, 500)]
    page = first_client.get(f"/contests/{cid}").get_data(as_text=True)
    assert "Rank 1" in page and "Final ranking" in page


def test_every_registered_kind_declares_templates_and_forms_that_exist(app):
    assert [t[0] for t in registry.tabs()] == ["member.contests", "member.raffles", "member.instant_wins"]
    for name in registry.kinds():
        kind = registry.get(name)
        assert kind.label and kind.templates and kind.play_actions, name
        for template in kind.templates.values():
            app.jinja_env.get_template(template)
        for form in kind.forms.values():
            assert import_string(form)
    assert set(registry.kinds("contest")) == {"quiz", "prediction"}
