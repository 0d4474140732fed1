"""The daily check-in card on /me: shown only with an active check-in rule, one
check-in per club-local day (htmx and plain form), streak and bonus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.web import post_form
from webapp.extensions import db
from webapp.models import CheckIn, LedgerEntry, Member
from webapp.services import ledger
from webapp.services.members import audit
from webapp.services.offers import checkin, earn_rules
from webapp.services.offers.rule_engine import Rule

PASSWORD = "member-password-1"


def add_checkin_rule(app, points=10, bonuses=((3, 50),)):
    with app.app_context():
        now = datetime.now(UTC)
        row = earn_rules.create_rule(db.session, Rule(
            id=None, family_id=None, trigger="checkin", name_fa="ورود روزانه", name_en="Daily visit",
            points=points, streak_bonuses=bonuses), actor=audit.CLI, now=now)
        earn_rules.activate_rule(db.session, row.id, actor=audit.CLI, now=now)
        db.session.commit()


@pytest.fixture
def member(client, make_member):
    made = make_member(password=PASSWORD, locale="en")
    post_form(client, "/login", {"login": made.email, "password": PASSWORD})
    return made


def test_no_active_check_in_rule_means_no_card(client, member):
    assert 'id="checkin-card"' not in client.get("/me").get_data(as_text=True)


def test_htmx_check_in_swaps_the_card_and_a_second_click_changes_nothing(app, client, member):
    add_checkin_rule(app)
    page = client.get("/me").get_data(as_text=True)
    assert 'id="checkin-card"' in page and "Check in for 10 points" in page and 'action="/me/checkin"' in page
    first = post_form(client, "/me/checkin", {}, form_url="/me", headers={"HX-Request": "true"})
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "<html" not in html
    assert "+10 points" in html and "1 day in a row" in html and 'hx-swap-oob="true"' in html
    assert first.headers["HX-Trigger"] == "pointsChanged"
    again = post_form(client, "/me/checkin", {}, form_url="/me", headers={"HX-Request": "true"})
    assert "You have checked in today" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1
        assert ledger.balance_of(db.session, member.id, "points") == 10


def test_without_javascript_the_form_posts_and_redirects(app, client, member):
    add_checkin_rule(app)
    response = post_form(client, "/me/checkin", {}, form_url="/me")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    assert "You have checked in today" in client.get("/me").get_data(as_text=True)


def test_a_post_without_csrf_token_checks_nobody_in(app, client, member):
    add_checkin_rule(app)
    client.post("/me/checkin", data={})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 0


def test_streak_grows_on_consecutive_local_days_pays_the_bonus_and_breaks_after_a_gap(app, make_member):
    add_checkin_rule(app, points=10, bonuses=((3, 50),))
    member = make_member()
    day1 = datetime(2026, 11, 24, 20, 31, tzinfo=UTC)  # 00:01 on the 25th in Tehran
    with app.app_context():
        s = db.session
        got = [checkin.check_in(s, member.id, now=day1 + timedelta(days=d), tz="Asia/Tehran")
               for d in (0, 1, 2)]
        assert [(r.streak, r.points) for r in got] == [(1, 10), (2, 10), (3, 60)]
        same_day = checkin.check_in(s, member.id, now=day1 + timedelta(days=2, hours=23), tz="Asia/Tehran")
        assert (same_day.new, same_day.points) == (False, 0)
        state = checkin.card_state(s, s.get(Member, member.id), now=day1 + timedelta(days=2),
                                   tz="Asia/Tehran")
        assert state.checked_in_today and state.streak == 3 and state.next_bonus is None
        broken = checkin.check_in(s, member.id, now=day1 + timedelta(days=5), tz="Asia/Tehran")
        assert (broken.streak, broken.points) == (1, 10)
        assert s.scalar(select(func.sum(LedgerEntry.amount))) == 90
        s.commit()
