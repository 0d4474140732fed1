"""Staff side of challenges: who may open the pages, defining a challenge with
club-local (Jalali or Gregorian) days, validation, draft → active → ended,
the goal and deal locked once members joined, and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from sqlalchemy import select

from tests.helpers.web import csrf_token, in_db, post_form, text
from tests.helpers.web import sign_in_staff as sign_in
from webapp.models import AuditLog, Challenge

TEHRAN = ZoneInfo("Asia/Tehran")


def form(**changes) -> dict:
    today = datetime.now(TEHRAN).date()
    data = {"name_fa": "سه دسته", "name_en": "Three categories", "description_fa": "", "description_en": "",
            "metric": "categories", "goal": "۳", "categories": "Coffee, Tea\nCake", "min_tier": "",
            "segment": "", "perk_multiplier": "1.5", "reward_points": "200", "reward": "",
            "starts_on": (today - timedelta(days=1)).isoformat(), "ends_on": (today + timedelta(days=29)).isoformat()}
    return {**data, **changes}


def saved(app) -> list[Challenge]:
    return in_db(app, lambda s: list(s.scalars(select(Challenge).order_by(Challenge.id))))


def audits(app) -> list[str]:
    return in_db(app, lambda s: list(s.scalars(select(AuditLog.action).where(AuditLog.object_type == "challenge")
                                               .order_by(AuditLog.id))))


@pytest.mark.parametrize("role,allowed", [("owner", True), ("marketer", True), ("operator", False),
                                          ("auditor", False)])
def test_only_offer_staff_open_the_challenge_pages(client, make_staff, role, allowed):
    sign_in(client, make_staff(role))
    for url in ("/admin/challenges", "/admin/challenges/new"):
        assert client.get(url).status_code == (200 if allowed else 403)


def test_anonymous_visitors_are_sent_to_the_staff_login(client):
    answer = client.get("/admin/challenges/new")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]
    assert client.post("/admin/challenges/new", data=form()).status_code in (302, 400)


def test_a_marketer_defines_a_draft_with_club_local_days(app, client, marketer):
    start = jdatetime.date(1405, 10, 1)
    answer = post_form(client, "/admin/challenges/new", form(starts_on="۱۴۰۵-۱۰-۰۱", ends_on="1405-10-30"))
    assert answer.status_code == 302
    [challenge] = saved(app)
    assert challenge.status == "draft" and challenge.goal == 3 and challenge.perk_multiplier_bp == 15_000
    assert challenge.categories == ["cake", "coffee", "tea"] and challenge.reward_points == 200
    # Tehran midnight of 1 Dey, stored in UTC; the last day counts in full
    assert challenge.starts_at == datetime.combine(start.togregorian(), datetime.min.time(), TEHRAN).astimezone(UTC)
    assert challenge.ends_at - challenge.starts_at == timedelta(days=30)
    assert audits(app) == ["challenge.create"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Three categories" in page and 'value="1405-10-01"' not in page  # English staff read Gregorian
    listing = text(client.get("/admin/challenges").get_data(as_text=True))
    assert "Three categories" in listing and "Draft" in listing


@pytest.mark.parametrize("changes,field_error", [
    ({"goal": "0"}, "A positive whole number."),
    ({"ends_on": "2000-01-01"}, "The last day cannot be before the first day."),
    ({"perk_multiplier": "", "reward_points": ""}, "Give the deal"),
    ({"perk_multiplier": "1"}, "Above 1 and at most 10"),
    ({"goal": "4"}, "The target is more categories than the list has."),
    ({"metric": "spend", "goal": "1000"}, "Categories are only for"),
    ({"starts_on": "1405-13-40"}, "Enter a date as year-month-day"),
])
def test_invalid_challenges_are_refused_with_the_reason(app, client, marketer, changes, field_error):
    answer = post_form(client, "/admin/challenges/new", form(**changes))
    assert answer.status_code == 422 and field_error in answer.get_data(as_text=True)
    assert saved(app) == [] and audits(app) == []


def test_activate_then_end_each_once(app, client, marketer):
    post_form(client, "/admin/challenges/new", form())
    [challenge] = saved(app)
    url = f"/admin/challenges/{challenge.id}"
    done = post_form(client, f"{url}/activate", {}, form_url=url, follow_redirects=True)
    assert "The challenge is active" in done.get_data(as_text=True)
    again = post_form(client, f"{url}/activate", {}, form_url=url, follow_redirects=True)
    assert "already active" in again.get_data(as_text=True)
    ended = post_form(client, f"{url}/end", {}, form_url=url, follow_redirects=True)
    assert "The challenge has ended" in ended.get_data(as_text=True)
    assert saved(app)[0].status == "ended"
    assert audits(app) == ["challenge.create", "challenge.activate", "challenge.end"]
    assert client.post(f"{url}/end", data={}).status_code == 400  # no CSRF token: nothing happens


def test_with_members_in_it_the_goal_and_deal_stay_while_texts_change(app, client, marketer, make_member):
    from webapp.services.offers import challenges

    post_form(client, "/admin/challenges/new", form())
    [challenge] = saved(app)
    url = f"/admin/challenges/{challenge.id}"
    post_form(client, f"{url}/activate", {}, form_url=url)
    member = make_member()
    in_db(app, lambda s: (challenges.join_challenge(s, challenge_id=challenge.id, member_id=member.id,
                                                    now=datetime.now(UTC)), s.commit()))
    page = client.get(url).get_data(as_text=True)
    assert 'id="challenge-locked"' in page and 'name="goal"' in page
    goal_input = page.split('name="goal"')[0].rsplit("<input", 1)[1] + page.split('name="goal"')[1].split(">")[0]
    assert "disabled" in goal_input

    # a crafted post cannot change the locked fields; the name does change
    answer = post_form(client, url, form(name_en="Three kinds", goal="1", reward_points="99999"), form_url=url)
    assert answer.status_code == 302
    [after] = saved(app)
    assert after.name_en == "Three kinds" and after.goal == 3 and after.reward_points == 200
    assert audits(app)[-1] == "challenge.update"
    assert in_db(app, lambda s: s.scalar(select(AuditLog.after).order_by(AuditLog.id.desc()).limit(1))) == {
        "name_en": "Three kinds"}


def test_persian_staff_see_jalali_days_in_the_form(app, client, make_staff):
    staff = make_staff("owner")
    sign_in(client, staff)
    token = csrf_token(client, "/admin/challenges")
    client.post("/admin/locale", data={"csrf_token": token, "locale": "fa", "next": "/admin/challenges"})
    post_form(client, "/admin/challenges/new", form(starts_on="1405-10-01", ends_on="1405-10-30"))
    [challenge] = saved(app)
    page = client.get(f"/admin/challenges/{challenge.id}").get_data(as_text=True)
    assert 'value="1405-10-01"' in page and 'value="1405-10-30"' in page
