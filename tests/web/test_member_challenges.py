"""Challenges for members: the card on /me and /me/challenges in English and
Persian (progress bar, amount left, days left, the deal), joining with htmx and
without JavaScript, and a member below the minimum level who cannot join."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jdatetime
import pytest
from sqlalchemy import func, select

from tests.helpers.web import csrf_token, post_form, text

PASSWORD = "a-good-password-1"
HX = {"HX-Request": "true"}
NAMES = {"en": "Five coffees", "fa": "پنج قهوه"}


def in_app(app, fn):
    from webapp.extensions import db

    with app.app_context():
        result = fn(db.session)
        db.session.commit()
        return result


def make_challenge(app, *, days=10, goal=5, **changes) -> int:
    from webapp.services.members import audit
    from webapp.services.offers import challenges

    now = datetime.now(UTC)
    spec = challenges.ChallengeSpec(**{
        "name_fa": NAMES["fa"], "name_en": NAMES["en"], "metric": "purchase_count", "goal": goal,
        "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=days),
        "perk_multiplier_bp": 15_000, "reward_points": 300, **changes})

    def make(session):
        challenge = challenges.create_challenge(session, spec, actor=audit.CLI, now=now)
        challenges.activate_challenge(session, challenge.id, actor=audit.CLI, now=now)
        return challenge.id

    return in_app(app, make)


def buy(app, member_id, n=1):
    from webapp.services.ledger.purchases import record_purchase

    def go(session):
        for _ in range(n):
            now = datetime.now(UTC)
            record_purchase(session, member_id=member_id, amount=50_000, currency="IRR", occurred_at=now, now=now)

    in_app(app, go)


def join(app, challenge_id, member_id):
    from webapp.services.offers import challenges

    in_app(app, lambda s: challenges.join_challenge(s, challenge_id=challenge_id, member_id=member_id,
                                                    now=datetime.now(UTC)))


def signed_in(client, make_member, locale="en", **kwargs):
    member = make_member(email=f"{locale}-challenger@example.com", password=PASSWORD, locale=locale, **kwargs)
    assert post_form(client, "/login", {"login": member.email, "password": PASSWORD}).status_code == 302
    return member


def entries(app) -> int:
    from webapp.models import ChallengeEntry

    return in_app(app, lambda s: s.scalar(select(func.count()).select_from(ChallengeEntry)))


def article(html: str, challenge_id: int) -> str:
    return html.split(f'id="challenge-{challenge_id}"')[1].split(">", 1)[1].split("</article>")[0]


# -- what members see ----------------------------------------------------------------------------


def test_no_open_challenge_means_no_card_on_me(client, make_member):
    signed_in(client, make_member)
    assert 'id="challenges-card"' not in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_progress_amount_left_and_days_left_on_me_and_the_challenges_page(app, client, make_member, locale):
    member = signed_in(client, make_member, locale)
    challenge_id = make_challenge(app, days=10)
    join(app, challenge_id, member.id)
    buy(app, member.id, 2)

    for url in ("/me", "/me/challenges"):
        html = client.get(url).get_data(as_text=True)
        item = article(html, challenge_id)
        words = text(item)
        assert NAMES[locale] in words
        assert 'role="progressbar"' in item and 'aria-valuenow="40"' in item and "progress-fill w40" in item
        assert "style=" not in item  # the CSP forbids inline styles
        if locale == "en":
            assert "3 purchases to go" in words and "2 purchases / 5 purchases" in words
            assert "11 days left" in words or "10 days left" in words  # the club's day may have turned
            assert "Earn ×1.5 points on purchases while the challenge runs" in words
            assert "300 points when you reach the goal" in words
        else:
            assert "۳" in words and "۲" in words and "۵" in words and "۱٫۵" in words and "۳۰۰" in words
            assert not re.search(r"[0-9]", words)  # Persian digits throughout
            last = jdatetime.date.fromgregorian(date=(datetime.now(UTC) + timedelta(days=10)).date())
            assert any(m in words for m in ("آذر", "دی", "بهمن", "اسفند", "فروردین", "اردیبهشت", "خرداد",
                                            "تیر", "مرداد", "شهریور", "مهر", "آبان")) and last.year > 1400
    assert 'href="/me/challenges"' in client.get("/me").get_data(as_text=True)


def test_a_completed_challenge_shows_the_goal_reached_and_the_inbox_says_so(app, client, make_member):
    member = signed_in(client, make_member)
    challenge_id = make_challenge(app, goal=2)
    join(app, challenge_id, member.id)
    buy(app, member.id, 2)
    item = article(client.get("/me/challenges").get_data(as_text=True), challenge_id)
    assert "Completed" in text(item) and "Goal reached on" in text(item) and "progress-fill w100" in item
    inbox = text(client.get("/me/inbox").get_data(as_text=True))
    assert f"You completed the challenge “{NAMES['en']}”!" in inbox
    assert "300 points were added to your balance." in inbox
    assert "Challenge completed" in text(client.get("/me/activity").get_data(as_text=True))


# -- joining -----------------------------------------------------------------------------------------


def test_joining_without_javascript_posts_and_returns_with_a_message(app, client, make_member):
    signed_in(client, make_member)
    challenge_id = make_challenge(app)
    page = client.get("/me/challenges").get_data(as_text=True)
    assert "Join the challenge" in article(page, challenge_id)
    url = f"/me/challenges/{challenge_id}/join"
    assert f'action="{url}"' in page and f'hx-post="{url}"' in page

    answer = post_form(client, url, {"next": "/me"}, form_url="/me/challenges")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/me")
    again = post_form(client, url, {}, form_url="/me/challenges", follow_redirects=True)
    assert "You joined the challenge" in again.get_data(as_text=True)
    assert entries(app) == 1  # joining twice is harmless
    item = article(client.get("/me/challenges").get_data(as_text=True), challenge_id)
    assert "You joined" in text(item) and "Join the challenge" not in item


def test_joining_with_htmx_swaps_the_challenge_in_place(app, client, make_member):
    signed_in(client, make_member)
    challenge_id = make_challenge(app)
    token = csrf_token(client, "/me/challenges")
    answer = client.post(f"/me/challenges/{challenge_id}/join", data={"csrf_token": token}, headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and html.lstrip().startswith(f'<article class="challenge" id="challenge-{challenge_id}"')
    assert 'role="progressbar"' in html and "5 purchases to go" in text(html) and "<html" not in html


def test_joining_needs_the_csrf_token(app, client, make_member):
    signed_in(client, make_member)
    challenge_id = make_challenge(app)
    client.post(f"/me/challenges/{challenge_id}/join", data={})
    assert entries(app) == 0


def test_a_member_below_the_minimum_level_neither_sees_nor_joins_it(app, client, make_member):
    from webapp.services import tiers
    from webapp.services.members import audit

    def program(session):
        tiers.save_program(session, tiers.default_program(), actor=audit.CLI, now=datetime.now(UTC))
        return tiers.load_program(session).levels[-1].id

    top = in_app(app, program)
    signed_in(client, make_member)
    challenge_id = make_challenge(app, min_tier_id=top)
    assert f'id="challenge-{challenge_id}"' not in client.get("/me/challenges").get_data(as_text=True)
    token = csrf_token(client, "/me/challenges")
    answer = client.post(f"/me/challenges/{challenge_id}/join", data={"csrf_token": token}, headers=HX)
    assert "not open to your membership level" in answer.get_data(as_text=True)
    refused = post_form(client, f"/me/challenges/{challenge_id}/join", {}, form_url="/me/challenges",
                        follow_redirects=True)
    assert "not open to your membership level" in refused.get_data(as_text=True)
    assert entries(app) == 0


def test_pages_need_a_signed_in_member(app, client):
    challenge_id = make_challenge(app)
    assert client.get("/me/challenges").status_code == 302
    assert client.post(f"/me/challenges/{challenge_id}/join").status_code in (302, 400)
    assert entries(app) == 0


def test_the_challenges_page_takes_a_few_statements_for_a_returning_member(app, client, make_member,
                                                                             count_queries):
    ids = [make_challenge(app, days=d) for d in (5, 10, 15)]
    member = signed_in(client, make_member)
    join(app, ids[0], member.id)
    buy(app, member.id, 2)
    assert client.get("/me/challenges").status_code == 200
    with count_queries() as statements:
        assert client.get("/me/challenges").status_code == 200
    # the member with the configuration version; the open challenges; the member's entries
    assert len(statements) <= 4, statements
