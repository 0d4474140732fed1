"""/me/inbox: the member's own messages, newest first, worded per kind in the
member's language; marking read (CSRF, htmx with an out-of-band badge, plain
POST without JavaScript); paging with htmx and plain links; never anyone else's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers.web import csrf_token, log_in, post_form

PASSWORD = "a-good-password-1"


def post(app, member_id, kind, params, key, *, minutes_ago=0):
    from webapp.extensions import db
    from webapp.services.members import inbox

    with app.app_context():
        message = inbox.post_message(db.session, member_id=member_id, kind=kind, params=params, key=key,
                                     now=datetime.now(UTC) - timedelta(minutes=minutes_ago))
        db.session.commit()
        return message.id


def unread_ids(app, member_id):
    from webapp.extensions import db
    from webapp.models import InboxMessage

    with app.app_context():
        return set(db.session.scalars(select(InboxMessage.id).where(
            InboxMessage.member_id == member_id, InboxMessage.read_at.is_(None))))


def text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def titles(html: str) -> list[str]:
    return [text(t) for t in re.findall(r'class="message-title"[^>]*>(.*?)</h2>', html, re.S)]


def use_default_program(app):
    from webapp.extensions import db
    from webapp.services import tiers
    from webapp.services.members import audit

    with app.app_context():
        tiers.save_program(db.session, tiers.default_program(), actor=audit.CLI, now=datetime.now(UTC))
        db.session.commit()


@pytest.mark.parametrize("locale", ["en", "fa"])
def test_messages_are_worded_per_kind_in_the_members_language(app, client, make_member, locale):
    from webapp import i18n

    use_default_program(app)
    me = make_member(email="me@example.com", password=PASSWORD, locale=locale)
    expires = datetime(2026, 12, 20, 8, 0, tzinfo=UTC)
    post(app, me.id, "tier_upgrade", {"from": "bronze", "to": "gold"}, "k1", minutes_ago=50)
    post(app, me.id, "points_expiring", {"points": 1234, "expires_at": expires.isoformat(), "days": 30},
         "k2", minutes_ago=40)
    post(app, me.id, "tier_at_risk", {"tier": "gold", "keep_needed": 300, "keep_by": expires.isoformat()},
         "k3", minutes_ago=30)
    post(app, me.id, "credit_converted", {"points": 1000, "credit": 50000}, "k4", minutes_ago=20)
    post(app, me.id, "fee_rebate", {"points": 7, "day": "2026-11-24"}, "k5", minutes_ago=10)
    post(app, me.id, "a_kind_from_the_future", {"whatever": [1, 2]}, "k6", minutes_ago=5)
    post(app, me.id, "points_expiring", {"points": "lots", "expires_at": "not a date"}, "k7")
    log_in(client, "me@example.com")

    response = client.get("/me/inbox")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    shown = titles(html)
    assert len(shown) == 7
    with app.test_request_context():
        points = i18n.format_points(1234, locale=locale)
        day = i18n.format_date(expires, locale=locale)
        credit = i18n.format_money(50000, locale=locale)
        rebate_day = i18n.format_date(datetime(2026, 11, 24).date(), locale=locale)
    gold = "Gold" if locale == "en" else "طلایی"
    # newest first
    assert points in shown[5] and day in shown[5]
    assert gold in shown[6] and gold in shown[4]
    assert credit in shown[3]
    items = re.findall(r'<li class="message[^"]*" id="message-\d+">(.*?)</li>', html, re.S)
    assert rebate_day in text(items[2])
    assert shown[1] == ("A message from the club" if locale == "en" else "پیامی از باشگاه")
    if locale == "en":
        assert shown[6] == "You moved up to Gold!"
        assert shown[5] == f"1,234 points expire on {day}"
        assert shown[4] == "Your Gold level is at risk"
        assert "Add 300 points by" in html
        assert shown[0] == "0 points expire soon"  # odd stored params: no 500, nothing made up
    else:
        assert "۱٬۲۳۴" in shown[5] and 'dir="rtl"' in html


def test_a_member_never_sees_or_changes_anyone_elses_messages(app, client, make_member):
    me = make_member(email="me@example.com", password=PASSWORD)
    other = make_member(email="other@example.com", password=PASSWORD)
    mine = post(app, me.id, "tier_upgrade", {"from": None, "to": "silver"}, "mine")
    theirs = post(app, other.id, "points_expiring",
                  {"points": 98765, "expires_at": "2026-12-01T00:00:00+00:00", "days": 7}, "theirs")
    log_in(client, "me@example.com")

    for url in ("/me/inbox", f"/me/inbox?before={theirs + 1}", f"/me/inbox?member_id={other.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "98,765" not in html and f'id="message-{theirs}"' not in html

    # a plain POST with their id changes nothing of theirs and reveals nothing
    response = post_form(client, "/me/inbox/read", {"message": str(theirs)}, form_url="/me/inbox")
    assert response.status_code == 302
    assert unread_ids(app, other.id) == {theirs}
    # htmx gets a 404, the same as for an id that does not exist
    token = csrf_token(client, "/me/inbox")
    for message_id in (theirs, theirs + 1000):
        response = client.post("/me/inbox/read", data={"csrf_token": token, "message": str(message_id)},
                               headers={"HX-Request": "true"})
        assert response.status_code == 404
    assert unread_ids(app, other.id) == {theirs}
    assert unread_ids(app, me.id) == {mine}
    # "mark all" is only ever the member's own
    post_form(client, "/me/inbox/read", {}, form_url="/me/inbox")
    assert unread_ids(app, me.id) == set() and unread_ids(app, other.id) == {theirs}


def test_marking_one_read_with_htmx_swaps_it_and_updates_the_badge_out_of_band(app, client, make_member):
    me = make_member(email="me@example.com", password=PASSWORD)
    first = post(app, me.id, "tier_upgrade", {"from": None, "to": "silver"}, "a", minutes_ago=2)
    second = post(app, me.id, "credit_converted", {"points": 100, "credit": 1000}, "b", minutes_ago=1)
    log_in(client, "me@example.com")
    page = client.get("/me").get_data(as_text=True)
    badge = page.split('id="inbox-badge"')[1].split("</span></span>")[0]
    assert ">2<" in badge and "2 unread messages" in badge

    inbox_html = client.get("/me/inbox").get_data(as_text=True)
    form = inbox_html.split(f'id="message-{first}"')[1].split("</li>")[0]
    assert 'hx-post="/me/inbox/read"' in form and 'action="/me/inbox/read"' in form
    assert f'name="message" value="{first}"' in form and 'hx-target="closest li"' in form

    token = csrf_token(client, "/me/inbox")
    response = client.post("/me/inbox/read", data={"csrf_token": token, "message": str(first)},
                           headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in fragment
    item = fragment.split("</li>")[0]
    assert f'id="message-{first}"' in item and "message-unread" not in item and "<form" not in item
    assert "data-autofocus" in item  # focus stays on the message (app.js)
    oob = fragment.split('id="inbox-badge"')[1]
    assert 'hx-swap-oob="true"' in oob and ">1<" in oob and "1 unread message" in oob
    assert unread_ids(app, me.id) == {second}

    client.post("/me/inbox/read", data={"csrf_token": token, "message": str(second)},
                headers={"HX-Request": "true"})
    assert unread_ids(app, me.id) == set()
    page = client.get("/me").get_data(as_text=True)
    assert re.search(r'<span id="inbox-badge" class="nav-badge" hidden>\s*</span>', page)
    assert "Mark all as read" not in client.get("/me/inbox").get_data(as_text=True)


def test_marking_read_works_without_javascript(app, client, make_member):
    me = make_member(email="me@example.com", password=PASSWORD)
    ids = [post(app, me.id, "tier_upgrade", {"from": None, "to": "silver"}, f"k{n}") for n in range(3)]
    log_in(client, "me@example.com")

    response = post_form(client, "/me/inbox/read", {"message": str(ids[0])}, form_url="/me/inbox")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/inbox")
    assert unread_ids(app, me.id) == set(ids[1:])

    response = post_form(client, "/me/inbox/read", {}, form_url="/me/inbox")  # mark all
    assert response.status_code == 302
    assert unread_ids(app, me.id) == set()


def test_marking_read_needs_csrf_a_sane_id_and_a_member(app, client, make_member):
    me = make_member(email="me@example.com", password=PASSWORD)
    message = post(app, me.id, "tier_upgrade", {"from": None, "to": "silver"}, "k")
    assert client.post("/me/inbox/read", data={}).status_code in (302, 400)  # anonymous
    assert unread_ids(app, me.id) == {message}
    log_in(client, "me@example.com")
    assert client.post("/me/inbox/read", data={"message": str(message)}).status_code == 400
    for bad in ("abc", "-1", "0", "99999999999999999999999", "1.5"):
        response = post_form(client, "/me/inbox/read", {"message": bad}, form_url="/me/inbox")
        assert response.status_code == 400, bad
    assert unread_ids(app, me.id) == {message}


def test_the_inbox_pages_through_every_message_with_plain_links_and_htmx(app, client, make_member):
    from webapp.extensions import db
    from webapp.services.members import inbox

    me = make_member(email="me@example.com", password=PASSWORD)
    now = datetime.now(UTC)
    with app.app_context():
        for n in range(45):
            inbox.post_message(db.session, member_id=me.id, kind="credit_converted",
                               params={"points": n + 1, "credit": 10}, key=f"m{n}", now=now)
        db.session.commit()
    log_in(client, "me@example.com")

    seen, url, pages = [], "/me/inbox", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        assert "<html" in html
        seen += [int(n) for n in re.findall(r"(\d+) points? became", html)]
        pages += 1
        more = re.search(r'<li class="load-more">.*?href="([^"]+)"\s+hx-get="([^"]+)"', html, re.S)
        url = more.group(1).replace("&amp;", "&") if more else None
        if more:
            assert more.group(1) == more.group(2)
    assert pages == 3 and seen == list(range(45, 0, -1))

    first = client.get("/me/inbox").get_data(as_text=True)
    next_url = re.search(r'hx-get="([^"]+)"', first).group(1)
    response = client.get(next_url, headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and "<body" not in fragment
    assert [int(n) for n in re.findall(r"(\d+) points? became", fragment)] == list(range(25, 5, -1))
    assert "load-more" in fragment


def test_an_empty_inbox_says_so_and_nonsense_cursors_are_ignored(client, make_member):
    make_member(email="me@example.com", password=PASSWORD)
    log_in(client, "me@example.com")
    assert "No messages yet" in client.get("/me/inbox").get_data(as_text=True)
    for before in ("abc", "-5", "99999999999999999999999", "1e9"):
        assert client.get(f"/me/inbox?before={before}").status_code == 200


def test_the_inbox_needs_a_signed_in_member(client):
    response = client.get("/me/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_messages_from_the_nightly_evaluation_read_well(app, client, make_member):
    """The engine writes these rows with INSERT … SELECT: they must render like any other."""
    from webapp import i18n
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.services import ledger, tiers

    use_default_program(app)
    me = make_member(email="me@example.com", password=PASSWORD)
    now = datetime.now(UTC)
    with app.app_context():
        ledger.award_points(db.session, me.id, 4_500, key="then", now=now - timedelta(days=371))
        tiers.on_qualifying_event(db.session, me.id, now=now - timedelta(days=370))  # Gold back then
        ledger.award_points(db.session, me.id, 1_200, key="now", now=now - timedelta(hours=1))
        tiers.evaluate_all(db.session, now=now)  # Gold at risk: 2,800 more needed
        db.session.commit()
        due = db.session.get(Member, me.id).downgrade_due_at
    log_in(client, "me@example.com")
    html = client.get("/me/inbox").get_data(as_text=True)
    shown = titles(html)
    assert shown == ["Your Gold level is at risk", "You moved up to Gold!"]
    with app.test_request_context():
        keep_by = i18n.format_date(due - timedelta(seconds=1), locale="en")
    assert f"Add 2,800 points by {keep_by} to keep Gold." in text(html)
