"""/play/spin: the list of games and the member's plays, a game with its
published odds and what is left, playing (htmx swaps the result in; without
JavaScript the play redirects to its own page), a double submit playing once,
refusals in words, CSRF, another member's play being a 404, and both locales."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from games.instant_win import ODDS_SCALE
from tests.helpers.web import MEMBER_PASSWORD, csrf_token, form_token, sign_in_new_member
from webapp.extensions import db
from webapp.models import InboxMessage, InstantWinPlay, Member
from webapp.services.members import audit
from webapp.services.play import instant_win
from webapp.services.play.instant_win import GameSpec, PrizeSpec

PASSWORD = MEMBER_PASSWORD
HX = {"HX-Request": "true"}


def sign_in(client, make_member, points=100, **kw):
    return sign_in_new_member(client, make_member, points, **kw)


@pytest.fixture
def make_game(app):
    def make(*, publish=True, prizes=None, **kw):
        now = datetime.now(UTC)
        values = {"name_fa": "گردونهٔ شانس", "name_en": "Lucky wheel", "opens_at": now - timedelta(days=1),
                  "closes_at": now + timedelta(days=10), "daily_plays": 2, "cost_points": 10,
                  "prizes": prizes or (PrizeSpec(name_fa="۵۰ امتیاز", name_en="Fifty points", kind="points",
                                                 value=50, odds_ppm=ODDS_SCALE, quantity=5),), **kw}
        with app.app_context():
            game = instant_win.create_game(db.session, GameSpec(**values), actor=audit.CLI, now=now)
            if publish:
                instant_win.publish_game(db.session, game.id, actor=audit.CLI, now=now)
            db.session.commit()
            return game.id
    return make


def play(client, game_id, token=None, **kw):
    url = f"/play/spin/{game_id}"
    html = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(client, url), "token": token or form_token(html)}, **kw)


def balance(app, member_id):
    with app.app_context():
        return db.session.get(Member, member_id).points_balance


def test_pages_need_a_signed_in_member(client, make_game):
    game_id = make_game()
    for url in ("/play/spin", f"/play/spin/{game_id}", "/play/spin/plays/1"):
        assert client.get(url).status_code == 302


def test_the_list_shows_open_games_with_the_games_tabs_and_hides_drafts(client, make_member, make_game):
    open_id = make_game()
    make_game(publish=False, name_en="Secret draft")
    sign_in(client, make_member)
    html = client.get("/play/spin").get_data(as_text=True)
    assert 'class="games-tabs"' in html and f'href="/play/spin/{open_id}"' in html
    assert "Lucky wheel" in html and "Secret draft" not in html and "10 points a play" in html
    assert 'id="spin-history-empty"' in html and "style=" not in html


def test_the_game_page_shows_odds_what_is_left_plays_left_and_the_cost(client, make_member, make_game):
    game_id = make_game(prizes=(
        PrizeSpec(name_fa="الف", name_en="Mug", kind="points", value=5, odds_ppm=20_000, quantity=7),
        PrizeSpec(name_fa="ب", name_en="Credit", kind="credit", value=10_000, odds_ppm=250_000, quantity=1)))
    sign_in(client, make_member)
    html = client.get(f"/play/spin/{game_id}").get_data(as_text=True)
    prizes = html[html.index('id="spin-prizes"'):]
    assert "1 in 50" in prizes and "7 left" in prizes and "1 in 4" in prizes
    assert re.search(r'id="spin-plays-left"><bdi>2<', html) and re.search(r'id="spin-balance"><bdi>100<', html)
    assert 'id="spin-play"' in html and "<svg" in html and "style=" not in html


def test_playing_without_javascript_redirects_to_the_result_and_charges_once(app, client, make_member, make_game):
    game_id = make_game()
    m = sign_in(client, make_member)
    html = client.get(f"/play/spin/{game_id}").get_data(as_text=True)
    token = form_token(html)
    first = play(client, game_id, token)
    again = play(client, game_id, token)  # the same form sent twice
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert balance(app, m.id) == 100 - 10 + 50
    result = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "You won Fifty points!" in result and "animateTransform" in result
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InstantWinPlay)) == 1
        assert db.session.scalar(select(InboxMessage.kind)) == "instant_win"
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "You won Fifty points!" in inbox and "Lucky wheel" in inbox


def test_playing_with_htmx_swaps_in_the_result_and_the_new_balance(app, client, make_member, make_game):
    game_id = make_game()
    sign_in(client, make_member)
    response = play(client, game_id, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="spin-stage"' in html
    assert response.headers["HX-Trigger"] == "pointsChanged"
    assert 'id="spin-result"' in html and re.search(r'id="spin-balance"><bdi>140<', html)
    assert re.search(r'id="spin-plays-left"><bdi>1<', html) and "Play again" in html


def test_the_daily_cap_is_said_in_words_and_plays_nothing_more(app, client, make_member, make_game):
    game_id = make_game(daily_plays=1)
    m = sign_in(client, make_member)
    assert play(client, game_id).status_code == 303
    page = client.get(f"/play/spin/{game_id}").get_data(as_text=True)
    assert "Come back tomorrow!" in page and 'id="spin-play"' not in page
    refused = client.post(f"/play/spin/{game_id}", data={"csrf_token": csrf_token(client, "/play/spin"),
                                                          "token": "another-token"})
    assert refused.status_code == 422 and "Come back tomorrow!" in refused.get_data(as_text=True)
    swapped = client.post(f"/play/spin/{game_id}", headers=HX, data={
        "csrf_token": csrf_token(client, "/play/spin"), "token": "htmx-token"})
    assert swapped.status_code == 200 and 'id="spin-refusal"' in swapped.get_data(as_text=True)
    assert balance(app, m.id) == 140


def test_not_enough_points_is_refused_in_words(app, client, make_member, make_game):
    game_id = make_game(cost_points=500)
    m = sign_in(client, make_member, points=100)
    assert "You do not have enough points" in client.get(f"/play/spin/{game_id}").get_data(as_text=True)
    refused = client.post(f"/play/spin/{game_id}", data={"csrf_token": csrf_token(client, "/play/spin"),
                                                          "token": "t"})
    assert refused.status_code == 422 and balance(app, m.id) == 100


def test_a_play_without_the_csrf_token_or_the_form_token_is_refused(app, client, make_member, make_game):
    game_id = make_game()
    m = sign_in(client, make_member)
    assert client.post(f"/play/spin/{game_id}", data={"token": "t"}).status_code == 400
    missing = client.post(f"/play/spin/{game_id}", data={"csrf_token": csrf_token(client, "/play/spin")})
    assert missing.status_code == 422 and "This form has expired" in missing.get_data(as_text=True)
    long = client.post(f"/play/spin/{game_id}", data={"csrf_token": csrf_token(client, "/play/spin"),
                                                       "token": "x" * 500})
    assert long.status_code == 422
    assert balance(app, m.id) == 100


def test_unknown_draft_and_huge_ids_are_404_never_500(client, make_member, make_game):
    draft = make_game(publish=False)
    sign_in(client, make_member)
    for url in (f"/play/spin/{draft}", "/play/spin/999999", f"/play/spin/{2**40}", f"/play/spin/plays/{2**70}",
                "/play/spin/plays/424242"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/play/spin/{draft}", data={"csrf_token": csrf_token(client, "/play/spin"),
                                                     "token": "t"}).status_code == 404


def test_another_members_play_is_404(app, make_member, make_game):
    game_id = make_game()
    alice, bob = app.test_client(), app.test_client()
    sign_in(alice, make_member)
    sign_in(bob, make_member)
    location = play(alice, game_id).headers["Location"]
    assert alice.get(location).status_code == 200
    assert bob.get(location).status_code == 404
    assert "Fifty points" not in bob.get("/play/spin").get_data(as_text=True)


def test_a_closed_game_shows_but_cannot_be_played(app, client, make_member, make_game):
    game_id = make_game()
    with app.app_context():
        instant_win.end_game(db.session, game_id, actor=audit.CLI, now=datetime.now(UTC))
        db.session.commit()
    sign_in(client, make_member)
    assert "This game is not open for play now." in client.get(f"/play/spin/{game_id}").get_data(as_text=True)
    assert client.post(f"/play/spin/{game_id}", data={"csrf_token": csrf_token(client, "/play/spin"),
                                                       "token": "t"}).status_code == 422


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_both_locales_render_the_list_the_game_and_the_result(client, make_member, make_game, locale):
    game_id = make_game(style="scratch")
    sign_in(client, make_member, locale=locale)
    for url in ("/play/spin", f"/play/spin/{game_id}"):
        assert client.get(url).status_code == 200
    location = play(client, game_id).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert 'class="scratch-card"' in html
    if locale == "fa":
        assert "گردونهٔ شانس" in html and "بردید" in html and "۵۰ امتیاز" in html
    else:
        assert "Lucky wheel" in html and "You won Fifty points!" in html


def test_the_games_page_takes_a_few_statements_for_a_returning_member(client, make_member, make_game,
                                                                        count_queries):
    for _ in range(3):
        make_game()
    sign_in(client, make_member)
    assert client.get("/play/spin").status_code == 200
    with count_queries() as statements:
        assert client.get("/play/spin").status_code == 200
    # the member with the configuration version; the open games; the member's last plays
    assert len(statements) <= 4, statements
