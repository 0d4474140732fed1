"""Staff side of instant-win games: who may open the pages, defining a game
with club-local (Jalali or Gregorian) days and prizes whose odds are typed
"1 in N" or as a percent, validation in words (never a 500), publish and end,
the prizes fixed once played (quantities may be raised), figures, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from sqlalchemy import select

from tests.helpers.web import csrf_token, in_db, post_form, text
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, InstantWinGame, InstantWinPrize
from webapp.services.play import instant_win

TEHRAN = ZoneInfo("Asia/Tehran")


def form(prizes=None, **changes) -> dict:
    today = datetime.now(TEHRAN).date()
    data = {"name_fa": "گردونه", "name_en": "Wheel", "description_fa": "", "description_en": "",
            "style": "wheel", "cost_points": "۱۰", "daily_plays": "2", "min_tier": "", "segment": "",
            "points_budget": "", "opens_on": (today - timedelta(days=1)).isoformat(),
            "closes_on": (today + timedelta(days=29)).isoformat()}
    rows = prizes if prizes is not None else [
        {"name_fa": "۵۰ امتیاز", "name_en": "50 points", "kind": "points", "value": "50", "odds": "1 in 10",
         "quantity": "20"},
        {"name_fa": "اعتبار", "name_en": "Credit", "kind": "credit", "value": "10000", "odds": "2.5%",
         "quantity": "3"}]
    for n, row in enumerate(rows):
        data.update({f"prizes-{n}-{k}": v for k, v in row.items()})
    return {**data, **changes}


def games(app) -> list[InstantWinGame]:
    return in_db(app, lambda s: list(s.scalars(select(InstantWinGame).order_by(InstantWinGame.id))))


def prizes(app, game_id) -> list[tuple]:
    return in_db(app, lambda s: [(p.name_en, p.kind, p.value, p.odds_ppm, p.quantity, p.remaining)
                                 for p in instant_win.game_prizes(s, game_id)])


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("marketer", True), ("operator", False),
                                               ("auditor", False)])
def test_only_offer_staff_open_the_instant_win_pages(client, make_staff, role, allowed):
    sign_in(client, make_staff(role))
    for url in ("/admin/instant-wins", "/admin/instant-wins/new"):
        assert client.get(url).status_code == (200 if allowed else 403)


def test_anonymous_visitors_are_sent_to_the_staff_login(client):
    answer = client.get("/admin/instant-wins/new")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


def test_creating_a_game_saves_a_draft_with_its_prizes_and_odds(app, client, marketer):
    answer = post_form(client, "/admin/instant-wins/new", form())
    assert answer.status_code == 302
    [game] = games(app)
    assert (game.status, game.cost_points, game.daily_plays, game.name_fa) == ("draft", 10, 2, "گردونه")
    assert prizes(app, game.id) == [("50 points", "points", 50, 100_000, 20, 20),
                                    ("Credit", "credit", 10_000, 25_000, 3, 3)]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "1 in 10" in page and 'id="instant-win-publish"' in page and "style=" not in page


def test_jalali_days_are_club_days(app, client, marketer):
    today = datetime.now(TEHRAN).date()
    first = jdatetime.date.fromgregorian(date=today)
    last = jdatetime.date.fromgregorian(date=today + timedelta(days=9))
    post_form(client, "/admin/instant-wins/new", form(opens_on=first.strftime("%Y/%m/%d"),
                                                      closes_on=last.strftime("%Y-%m-%d")))
    [game] = games(app)
    assert game.opens_at == datetime.combine(today, datetime.min.time(), TEHRAN).astimezone(UTC)
    assert game.closes_at.astimezone(TEHRAN).date() == today + timedelta(days=10)


@pytest.mark.parametrize(("changes", "rows", "expected"), [
    ({"name_en": ""}, None, "Give the English name."),
    ({"cost_points": "-5"}, None, "Between 0 and 10,000,000."),
    ({"daily_plays": "lots"}, None, "Enter a whole number"),
    ({"opens_on": "2027-02-30"}, None, "Enter a date as year-month-day"),
    ({"closes_on": "2020-01-01"}, None, "The last day cannot be before the first day."),
    ({}, [], "Give at least one prize."),
    ({}, [{"name_fa": "الف", "name_en": "A", "kind": "points", "value": "5", "odds": "lots", "quantity": "1"}],
     "Write the odds as 1 in N"),
    ({}, [{"name_fa": "الف", "name_en": "A", "kind": "points", "value": "5", "odds": "60%", "quantity": "1"},
          {"name_fa": "ب", "name_en": "B", "kind": "points", "value": "5", "odds": "1 in 2", "quantity": "1"}],
     "add up to more than 100%"),
    ({}, [{"name_fa": "الف", "name_en": "A", "kind": "reward", "value": "", "odds": "1%", "quantity": "1"}],
     "Choose the reward."),
    ({}, [{"name_fa": "الف", "name_en": "A", "kind": "points", "value": "5", "odds": "1%", "quantity": "0"}],
     "Between 1 and 10,000,000."),
    ({}, [{"name_fa": "الف", "name_en": "A", "kind": "dice", "value": "5", "odds": "1%", "quantity": "1"}],
     "Not a valid choice"),
])
def test_bad_input_is_a_form_error_never_a_500(app, client, marketer, changes, rows, expected):
    answer = post_form(client, "/admin/instant-wins/new", form(prizes=rows, **changes))
    assert answer.status_code == 422
    assert expected in text(answer.get_data(as_text=True))
    assert games(app) == []


def test_a_post_without_the_csrf_token_is_refused(app, client, marketer):
    assert client.post("/admin/instant-wins/new", data=form()).status_code in (400, 422)
    assert games(app) == []


def test_publish_then_end_is_audited_and_shown(app, client, marketer):
    post_form(client, "/admin/instant-wins/new", form())
    [game] = games(app)
    url = f"/admin/instant-wins/{game.id}"
    assert post_form(client, f"{url}/publish", {}, form_url=url).status_code == 302
    assert "Published" in client.get("/admin/instant-wins").get_data(as_text=True)
    assert post_form(client, f"{url}/end", {}, form_url=url).status_code == 302
    assert games(app)[0].status == "ended"
    actions = in_db(app, lambda s: list(s.scalars(select(AuditLog.action).where(
        AuditLog.object_type == "instant_win_game").order_by(AuditLog.id))))
    assert actions == ["instant_win.create", "instant_win.active", "instant_win.ended"]
    assert client.post(f"{url}/publish", data={}).status_code == 400  # no CSRF token


def test_once_played_the_prizes_are_fixed_but_quantities_can_be_raised(app, client, marketer, make_member):
    post_form(client, "/admin/instant-wins/new", form())
    [game] = games(app)
    url = f"/admin/instant-wins/{game.id}"
    post_form(client, f"{url}/publish", {}, form_url=url)
    member = make_member(points=100)
    in_db(app, lambda s: (instant_win.play(s, member_id=member.id, game_id=game.id, request_key="k",
                                           now=datetime.now(UTC), tz="Asia/Tehran", roll=lambda n: 0),
                          s.commit()))
    page = client.get(url).get_data(as_text=True)
    assert 'id="instant-win-locked"' in page and 'id="stat-plays">1<' in page

    crafted = form(name_en="Big wheel", prizes=[
        {"name_fa": "x", "name_en": "Changed", "kind": "credit", "value": "1", "odds": "100%", "quantity": "40"},
        {"quantity": "5"}])
    assert post_form(client, url, crafted).status_code == 302
    assert prizes(app, game.id) == [("50 points", "points", 50, 100_000, 40, 39),
                                    ("Credit", "credit", 10_000, 25_000, 5, 5)]
    assert games(app)[0].name_en == "Big wheel"

    lowered = post_form(client, url, form(prizes=[{"quantity": "1"}, {"quantity": "5"}]))
    assert lowered.status_code == 422 and "You can only raise" in text(lowered.get_data(as_text=True))
    # 50 points were given: a smaller budget is a form error, not a broken database constraint
    small = post_form(client, url, form(points_budget="10", prizes=[{"quantity": "40"}, {"quantity": "5"}]))
    assert small.status_code == 422
    assert "cannot be less than the points already given" in text(small.get_data(as_text=True))


def test_editing_a_draft_replaces_its_prizes(app, client, marketer):
    post_form(client, "/admin/instant-wins/new", form())
    [game] = games(app)
    url = f"/admin/instant-wins/{game.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="1 in 10"' in page and 'value="1 in 40"' in page
    one = [{"name_fa": "الف", "name_en": "Only", "kind": "points", "value": "7", "odds": "1 in 4", "quantity": "9"}]
    assert post_form(client, url, form(prizes=one)).status_code == 302
    assert prizes(app, game.id) == [("Only", "points", 7, 250_000, 9, 9)]


def test_unknown_games_are_404(client, marketer):
    assert client.get("/admin/instant-wins/999").status_code == 404
    assert client.get(f"/admin/instant-wins/{2**40}").status_code == 404
    token = csrf_token(client, "/admin/instant-wins/new")
    assert client.post("/admin/instant-wins/999/publish", data={"csrf_token": token}).status_code == 404


def test_both_locales_render_the_staff_pages(app, client, marketer):
    post_form(client, "/admin/instant-wins/new", form())
    [game] = games(app)
    for locale in ("fa", "en"):
        client.set_cookie("vafa_locale", locale)
        for url in ("/admin/instant-wins", "/admin/instant-wins/new", f"/admin/instant-wins/{game.id}"):
            assert client.get(url).status_code == 200
    assert in_db(app, lambda s: s.get(InstantWinPrize, 1)) is not None
