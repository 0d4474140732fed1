"""The dashboard and the activity list: the member's own data, paginated, with
an htmx "load more" that has a plain link beside it."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.helpers.web import log_in

PASSWORD = "a-good-password-1"


def add_entries(app, member_id, count, now, *, start=0):
    """`count` point awards with descriptions `entry N`, oldest first."""
    from webapp.extensions import db
    from webapp.services import ledger

    with app.app_context():
        for n in range(start, start + count):
            ledger.award_points(db.session, member_id, 10 + n, key=f"t:{member_id}:{n}",
                                now=now - timedelta(minutes=1000 - n), description=f"entry {n}")
        db.session.commit()


def entry_descriptions(html: str) -> list[str]:
    return re.findall(r'class="entry-desc">(entry \d+)<', html)


def test_dashboard_shows_the_members_own_balances_and_nobody_elses(make_member, client):
    make_member(email="me@example.com", password=PASSWORD, display_name="Mina",
                points=1234, credit=56_700)
    make_member(email="other@example.com", password=PASSWORD, display_name="Otto Other",
                points=98_765, credit=4_321)
    log_in(client, "me@example.com")
    html = client.get("/me").get_data(as_text=True)
    assert "Mina" in html
    assert "1,234" in html and "56,700" in html
    assert "98,765" not in html and "4,321" not in html and "Otto Other" not in html


def _today():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_dashboard_lists_expiring_points_with_their_date(app, make_member, client):
    from webapp.extensions import db
    from webapp.services import ledger

    member = make_member(email="soon@example.com", password=PASSWORD)
    today = _today()
    with app.app_context():
        ledger.award_points(db.session, member.id, 321, key="soon", now=today,
                            expires_at=today + timedelta(days=10))
        ledger.award_points(db.session, member.id, 654, key="later", now=today,
                            expires_at=today + timedelta(days=90))
        db.session.commit()
    log_in(client, "soon@example.com")
    html = client.get("/me").get_data(as_text=True)
    section = html.split('id="expiring-title"')[1].split("</section>")[0]
    assert "321" in section and "654" not in section
    from webapp.i18n import format_date

    with app.test_request_context():
        assert format_date(today + timedelta(days=10), locale="en") in section


def test_dashboard_shows_the_last_five_entries_and_a_tier_placeholder(app, make_member, client, now):
    member = make_member(email="five@example.com", password=PASSWORD)
    add_entries(app, member.id, 7, now)
    log_in(client, "five@example.com")
    html = client.get("/me").get_data(as_text=True)
    assert entry_descriptions(html) == ["entry 6", "entry 5", "entry 4", "entry 3", "entry 2"]
    assert 'href="/me/activity"' in html
    tier = re.sub(r"<[^>]+>", " ", html.split('id="tier-title"')[1].split("</section>")[0])
    assert "Member" in tier and not re.search(r"\d", tier)  # a level name, no made-up numbers


def test_activity_pages_through_every_entry_with_plain_links(app, make_member, client, now):
    member = make_member(email="pages@example.com", password=PASSWORD)
    add_entries(app, member.id, 45, now)
    log_in(client, "pages@example.com")

    seen, url, pages = [], "/me/activity", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        assert "<html" in html
        seen += entry_descriptions(html)
        pages += 1
        more = re.search(r'<li class="load-more">.*?href="([^"]+)"\s+hx-get="([^"]+)"', html, re.S)
        if more:
            assert more.group(1) == more.group(2)  # the same URL with or without JavaScript
            url = more.group(1).replace("&amp;", "&")
        else:
            url = None
    assert pages == 3
    assert seen == [f"entry {n}" for n in range(44, -1, -1)]


def test_activity_htmx_request_gets_only_the_next_entries(app, make_member, client, now):
    member = make_member(email="hx@example.com", password=PASSWORD)
    add_entries(app, member.id, 25, now)
    log_in(client, "hx@example.com")
    first = client.get("/me/activity").get_data(as_text=True)
    next_url = re.search(r'hx-get="([^"]+)"', first).group(1)

    response = client.get(next_url, headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in fragment and "<body" not in fragment
    assert entry_descriptions(fragment) == [f"entry {n}" for n in range(4, -1, -1)]
    assert "load-more" not in fragment  # the end: no further button
    assert "HX-Request" in response.headers.get("Vary", "")


def test_activity_never_shows_another_members_entries(app, make_member, client, now):
    mine = make_member(email="mine@example.com", password=PASSWORD)
    theirs = make_member(email="theirs@example.com", password=PASSWORD)
    add_entries(app, theirs.id, 5, now)
    add_entries(app, mine.id, 2, now, start=100)
    log_in(client, "mine@example.com")
    for url in ("/me/activity", "/me/activity?before=999999999", "/me/activity?before=1"):
        html = client.get(url).get_data(as_text=True)
        assert set(entry_descriptions(html)) <= {"entry 100", "entry 101"}
    assert client.get(f"/me/activity?member_id={theirs.id}").get_data(as_text=True).count(
        "entry-desc") == 2


def test_activity_ignores_a_nonsense_cursor(make_member, client):
    make_member(email="junk@example.com", password=PASSWORD, points=5)
    log_in(client, "junk@example.com")
    for before in ("abc", "-5", "99999999999999999999999", "1e9"):
        response = client.get(f"/me/activity?before={before}")
        assert response.status_code == 200


def test_activity_shows_kind_in_words_and_signed_amounts(app, make_member, client, now):
    from webapp.extensions import db
    from webapp.services import ledger

    member = make_member(email="words@example.com", password=PASSWORD, points=500)
    with app.app_context():
        ledger.spend_points(db.session, member.id, 120, key="spend-1", now=now)
        ledger.grant_credit(db.session, member.id, 25_000, key="credit-1", now=now)
        db.session.commit()
    log_in(client, "words@example.com")
    html = client.get("/me/activity").get_data(as_text=True)
    assert "Spent" in html and "Points earned" in html and "Store credit received" in html
    assert "−120" in html and "+500" in html and "+IRR" in html.replace("\xa0", "")


def test_empty_activity_says_so(make_member, client):
    make_member(email="empty@example.com", password=PASSWORD)
    log_in(client, "empty@example.com")
    assert "Nothing yet" in client.get("/me/activity").get_data(as_text=True)
    assert "Nothing yet" in client.get("/me").get_data(as_text=True)


def test_member_urls_carry_no_member_id(make_member, client):
    make_member(email="noid@example.com", password=PASSWORD, points=3)
    log_in(client, "noid@example.com")
    for url in ("/me", "/me/activity", "/me/settings"):
        html = client.get(url).get_data(as_text=True)
        links = re.findall(r'(?:href|action|hx-get)="(/[^"]*)"', html)
        assert links and not [link for link in links if re.search(r"/\d+(/|$)|member", link)]


def test_landing_and_forms_render_for_anonymous_visitors(client):
    for url in ("/", "/join", "/login", "/logout"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="csrf_token"' in response.get_data(as_text=True) or url == "/"
    landing = client.get("/").get_data(as_text=True)
    assert 'href="/join"' in landing and 'href="/login"' in landing
    assert 'action="/locale"' in landing


def test_signed_in_members_skip_the_join_and_login_forms(make_member, client):
    make_member(email="in@example.com", password=PASSWORD)
    log_in(client, "in@example.com")
    assert client.get("/join").headers["Location"].endswith("/me")
    assert client.get("/login").headers["Location"].endswith("/me")
    assert 'href="/me"' in client.get("/").get_data(as_text=True)
