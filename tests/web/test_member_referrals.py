"""Invite links through the real test client: the landing page `/r/<code>` (its
Open Graph and Twitter meta, opens counted once per device, never for bots or
the owner, a friendly 404), attribution from the link to /join across the
cookie window (last click wins), the device cookie catching a friend joining
from the referrer's own phone, /invite (the member's own funnel only, the
board with first names, both locales), the share counter (CSRF, channel
checked, rate-limited) and the referral messages in the inbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from sqlalchemy import func, select, text

from tests.helpers.referrals import buy, set_rules
from tests.helpers.web import csrf_token, post_form
from webapp.extensions import db
from webapp.models import Member, MemberDevice, Referral, ReferralOpen, ReferralShare
from webapp.services import referrals
from webapp.services.ledger import purchases

PASSWORD = "a-good-password-1"
BOTS = ["TelegramBot (like TwitterBot)", "WhatsApp/2.23.20.0 A", "facebookexternalhit/1.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""]
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0 Mobile Safari/537.36")


@pytest.fixture
def client(app):
    """A phone's browser: every request carries a phone's User-Agent."""
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = PHONE
    return c


@pytest.fixture
def new_client(app):
    def make():
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = PHONE
        return c

    return make


def meta(html: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def opens(app, referrer_id=None) -> int:
    with app.app_context():
        query = select(func.count(ReferralOpen.id))
        if referrer_id is not None:
            query = query.where(ReferralOpen.referrer_id == referrer_id)
        return db.session.scalar(query)


def referral_of(app, email):
    with app.app_context():
        friend = db.session.scalar(select(Member).where(Member.email == email))
        assert friend is not None, f"{email} did not join"
        referral = db.session.scalar(select(Referral).where(Referral.friend_id == friend.id))
        if referral is not None:
            db.session.expunge(referral)
        return referral


def join(client, email, name="Friend", url="/join"):
    return post_form(client, url, {"email": email, "password": PASSWORD, "display_name": name})


def sign_in(client, member):
    response = post_form(client, "/login", {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    return member


def set_cookie_header(response, name) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


# -- the landing page ------------------------------------------------------------


def test_the_landing_page_previews_well_in_messengers(app, client, make_member):
    sara = make_member(email="sara.private@example.com", mobile=None, display_name="Sara Ahmadi")
    response = client.get(f"/r/{sara.referral_code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert meta(html, "og:title") == "Sara Ahmadi invites you to Vafa club"
    assert "200 points" in meta(html, "og:description")  # the default rules' gift for the friend
    assert meta(html, "og:url") == f"http://localhost/r/{sara.referral_code}"
    assert meta(html, "og:image") == "http://localhost/static/img/invite-share.png"
    assert meta(html, "og:image:width") == "1200" and meta(html, "og:image:height") == "630"
    assert meta(html, "og:type") == "website" and meta(html, "og:site_name") == "Vafa club"
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:title") == meta(html, "og:title")
    assert meta(html, "twitter:image") == meta(html, "og:image")
    assert meta(html, "robots") == "noindex"
    assert 'href="/join"' in html and "sara.private" not in html  # the display name only
    image = client.get("/static/img/invite-share.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data[16:24] == (1200).to_bytes(4, "big") + (630).to_bytes(4, "big")  # the PNG's IHDR size
    image.close()


def test_the_landing_page_speaks_persian_by_default_right_to_left(app, new_client, make_member):
    app.config["VAFA_LOCALE"] = "fa"
    sara = make_member(display_name="سارا")
    html = new_client().get(f"/r/{sara.referral_code}").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert meta(html, "og:locale") == "fa_IR"
    assert "سارا" in meta(html, "og:title") and "۲۰۰" in meta(html, "og:description")


def test_a_campaign_tag_stays_on_the_shared_url(app, client, make_member):
    sara = make_member()
    html = client.get(f"/r/{sara.referral_code.lower()}?c=Insta-Story").get_data(as_text=True)
    assert meta(html, "og:url") == f"http://localhost/r/{sara.referral_code}"  # members' links have no campaigns


@pytest.mark.parametrize("code", ["NOSUCHCODE", "x" * 40, "%F0%9F%98%80", "' OR 1=1 --"])
def test_an_unknown_code_gets_a_friendly_404(client, code):
    response = client.get(f"/r/{code}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "This invitation link does not work any more" in html and 'href="/join"' in html
    assert "vafa_ref=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_a_suspended_members_link_is_not_found(app, client, make_member):
    sara = make_member()
    with app.app_context():
        db.session.get(Member, sara.id).status = "suspended"
        db.session.commit()
    assert client.get(f"/r/{sara.referral_code}").status_code == 404


def test_an_open_counts_once_per_device(app, client, new_client, make_member):
    sara = make_member()
    first = client.get(f"/r/{sara.referral_code}")
    device = set_cookie_header(first, "vafa_dev")
    assert "HttpOnly" in device and "SameSite=Lax" in device and "Max-Age=" in device
    assert "Secure" not in device  # the tests run with secure cookies off, as configured
    client.get(f"/r/{sara.referral_code}")
    client.get(f"/r/{sara.referral_code}")
    assert opens(app, sara.id) == 1
    new_client().get(f"/r/{sara.referral_code}")
    assert opens(app, sara.id) == 2
    raw = client.get_cookie("vafa_dev").value
    with app.app_context():
        stored = set(db.session.scalars(select(ReferralOpen.visitor)))
    assert raw not in stored and referrals.digest(raw, "test-secret") in stored  # only its keyed hash


def test_secure_cookies_follow_the_configuration(app, client, make_member):
    app.config["SESSION_COOKIE_SECURE"] = True
    sara = make_member()
    response = client.get(f"/r/{sara.referral_code}")
    assert "Secure" in set_cookie_header(response, "vafa_dev")
    assert "Secure" in set_cookie_header(response, "vafa_ref")


@pytest.mark.parametrize("user_agent", BOTS)
def test_link_preview_fetchers_and_crawlers_are_not_counted(app, client, make_member, user_agent):
    sara = make_member()
    response = client.get(f"/r/{sara.referral_code}", headers={"User-Agent": user_agent})
    assert response.status_code == 200 and meta(response.get_data(as_text=True), "og:title")
    assert opens(app) == 0
    assert "vafa_ref=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_the_owner_opening_their_own_link_is_not_counted(app, client, make_member):
    sara = sign_in(client, make_member(password=PASSWORD))
    response = client.get(f"/r/{sara.referral_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="invite-own"' in html and 'href="/invite"' in html
    assert opens(app) == 0
    assert "vafa_ref=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_the_landing_page_takes_a_few_queries(client, make_member, count_queries):
    sara = make_member()
    with count_queries() as statements:
        assert client.get(f"/r/{sara.referral_code}").status_code == 200
    # the member behind the code, the rules, the open and its counter; nothing for the page itself
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(writes) == 2 and len(statements) <= 5, statements
    assert "referral_open" in writes[0] and "referrer_tally" in writes[1]


# -- from the link to /join -----------------------------------------------------------


def test_a_friend_who_opens_the_link_and_joins_is_attributed(app, client, make_member):
    sara = make_member(display_name="Sara Ahmadi")
    client.get(f"/r/{sara.referral_code}")
    page = client.get("/join").get_data(as_text=True)
    assert 'id="join-offer"' in page
    offer = unescape(re.search(r'id="join-offer">.*?<p>(.*?)</p>', page, re.S).group(1))
    assert offer.startswith("<bdi>Sara Ahmadi</bdi> invited you: Join now and get 200 points")
    response = join(client, "friend@example.com")
    assert response.status_code == 302
    referral = referral_of(app, "friend@example.com")
    assert referral.referrer_id == sara.id and referral.status == "pending"
    raw = client.get_cookie("vafa_dev").value
    assert referral.visitor == referrals.digest(raw, "test-secret")
    assert referral.ip_hash == referrals.digest("127.0.0.1", "test-secret")
    assert "vafa_ref=;" in set_cookie_header(response, "vafa_ref")  # cleared after the join
    assert client.get_cookie("vafa_ref") is None


def test_joining_without_a_link_is_not_attributed_but_the_device_is_remembered(app, client):
    assert 'id="join-offer"' not in client.get("/join").get_data(as_text=True)
    join(client, "plain@example.com")
    assert referral_of(app, "plain@example.com") is None
    with app.app_context():
        assert db.session.scalar(select(func.count(MemberDevice.id))) == 1


def test_a_join_inside_the_window_is_attributed_and_after_it_is_not(app, new_client, make_member):
    sara = make_member()
    start = datetime.now(UTC)
    inside, outside, replayed = new_client(), new_client(), new_client()
    with time_machine.travel(start, tick=False) as clock:
        for browser in (inside, outside, replayed):
            browser.get(f"/r/{sara.referral_code}")
        kept = replayed.get_cookie("vafa_ref").value
        clock.move_to(start + timedelta(days=29, hours=23))
        join(inside, "inside@example.com")
        clock.move_to(start + timedelta(days=30, minutes=1))
        assert 'id="join-offer"' not in outside.get("/join").get_data(as_text=True)
        join(outside, "outside@example.com")
        # a browser that kept the cookie past its expiry: the server checks the signed time
        replayed.set_cookie("vafa_ref", kept)
        join(replayed, "replayed@example.com")
    assert referral_of(app, "inside@example.com").referrer_id == sara.id
    assert referral_of(app, "outside@example.com") is None
    assert referral_of(app, "replayed@example.com") is None


def test_the_window_follows_the_rules(app, new_client, make_member):
    with app.app_context():
        set_rules(db.session, datetime.now(UTC), attribution_days=2)
    sara = make_member()
    start = datetime.now(UTC)
    early, late = new_client(), new_client()
    with time_machine.travel(start, tick=False) as clock:
        early.get(f"/r/{sara.referral_code}")
        late.get(f"/r/{sara.referral_code}")
        assert "Max-Age=172800" in set_cookie_header(late.get(f"/r/{sara.referral_code}"), "vafa_ref")
        clock.move_to(start + timedelta(days=1))
        join(early, "early@example.com")
        clock.move_to(start + timedelta(days=3))
        join(late, "late@example.com")
    assert referral_of(app, "early@example.com") is not None
    assert referral_of(app, "late@example.com") is None


def test_a_forged_attribution_cookie_is_ignored(app, client, make_member):
    sara = make_member()
    client.set_cookie("vafa_ref", f'{{"c": "{sara.referral_code}"}}')
    join(client, "forged@example.com")
    assert referral_of(app, "forged@example.com") is None


def test_the_last_link_opened_wins(app, client, make_member):
    sara, reza = make_member(display_name="Sara"), make_member(display_name="Reza")
    client.get(f"/r/{sara.referral_code}")
    client.get(f"/r/{reza.referral_code}")
    assert "Reza</bdi> invited you" in client.get("/join").get_data(as_text=True)
    join(client, "friend@example.com")
    assert referral_of(app, "friend@example.com").referrer_id == reza.id


def test_a_ref_parameter_on_join_attributes_too(app, client, make_member):
    sara = make_member(display_name="Sara")
    page = client.get(f"/join?ref={sara.referral_code}").get_data(as_text=True)
    assert "Sara</bdi> invited you" in page
    join(client, "by-ref@example.com")
    assert referral_of(app, "by-ref@example.com").referrer_id == sara.id


def test_a_friend_joining_from_the_referrers_own_phone_is_held_for_review(app, client, make_member):
    sara = make_member(password=PASSWORD)
    sign_in(client, sara)  # the login remembers this phone's device cookie for Sara
    with app.app_context():
        assert db.session.scalar(select(func.count(MemberDevice.id)).where(MemberDevice.member_id == sara.id)) == 1
    post_form(client, "/logout", {}, form_url="/logout")
    client.get(f"/r/{sara.referral_code}")
    join(client, "second-account@example.com")
    referral = referral_of(app, "second-account@example.com")
    assert referral.status == "held" and "self_device" in referral.flags


def test_a_qualified_friend_rewards_both_and_the_inbox_says_so(app, client, new_client, make_member):
    sara = make_member(password=PASSWORD, display_name="Sara")
    friend_browser = new_client()
    friend_browser.get(f"/r/{sara.referral_code}")
    join(friend_browser, "nima@example.com", name="Nima Karimi")
    referral = referral_of(app, "nima@example.com")
    with app.app_context():
        purchase = buy(db.session, referral.friend_id, 500_000, datetime.now(UTC), after=timedelta(seconds=1))
        assert db.session.get(Member, sara.id).points_balance == 500
        assert db.session.get(Member, referral.friend_id).points_balance >= 200
    inbox = friend_browser.get("/me/inbox").get_data(as_text=True)
    assert "Your welcome gift for joining through an invitation" in inbox
    assert "200 points were added to your balance." in inbox
    sign_in(client, sara)
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "<bdi>Nima Karimi</bdi>, whom you invited, has qualified" in inbox
    assert "500 points were added to your balance." in inbox
    invite = client.get("/invite").get_data(as_text=True)
    assert re.search(r'id="funnel-qualified"><bdi>1</bdi>', invite)
    assert re.search(r'id="funnel-points"><bdi>500</bdi>', invite)
    assert "Nima" not in invite and "Sara" in invite  # the board: Sara, first name only
    with app.app_context():
        purchases.refund_purchase(db.session, purchase_id=purchase.id, now=datetime.now(UTC))
        db.session.commit()
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "An invitation reward was taken back" in inbox


def test_the_inbox_tells_a_capped_referrer_why_there_was_no_reward(app, client, make_member):
    from webapp.models import InboxMessage

    sara = sign_in(client, make_member(password=PASSWORD))
    with app.app_context():
        db.session.add(InboxMessage(member_id=sara.id, kind="referral_qualified", key="test:capped",
                                    params={"friend": "Nima", "capped": True, "kind": "none", "amount": 0},
                                    created_at=datetime.now(UTC)))
        db.session.commit()
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "reached this month&#39;s limit" in inbox or "reached this month's limit" in inbox


# -- /invite -------------------------------------------------------------------------


def test_invite_needs_a_member(client):
    response = client.get("/invite")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_invite_page_shows_the_link_qr_share_links_and_rules(app, client, make_member, locale):
    sara = sign_in(client, make_member(password=PASSWORD, locale=locale, display_name="Sara"))
    response = client.get("/invite")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = f"http://localhost/r/{sara.referral_code}"
    assert f'value="{link}"' in html and 'class="invite-qr-svg"' in html
    for channel in ("copy", "whatsapp", "telegram", "sms", "email"):
        assert f'data-share-channel="{channel}"' in html
    assert "https://wa.me/?text=" in html and "https://t.me/share/url?url=" in html
    assert "sms:?&amp;body=" in html and "mailto:?subject=" in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers: the CSP forbids them
    if locale == "fa":
        assert '<html lang="fa" dir="rtl">' in html and "دعوت از دوستان" in html and "۵۰۰" in html
    else:
        assert "Invite friends" in html and "500 points for every friend who qualifies" in html
        assert "within 30 days" in html and "up to 10 friends a month" in html


def test_a_member_only_ever_sees_their_own_funnel(app, client, new_client, make_member):
    sara = make_member(password=PASSWORD, display_name="Sara Ahmadi")
    reza = make_member(password=PASSWORD, display_name="Reza")
    for n in range(2):
        browser = new_client()
        browser.get(f"/r/{sara.referral_code}")
        join(browser, f"friend{n}@example.com")
    sign_in(client, reza)
    # no member ids in the URL: query strings do not change whose funnel it is
    html = client.get(f"/invite?referrer_id={sara.id}&member={sara.id}").get_data(as_text=True)
    assert re.search(r'id="funnel-opens"><bdi>0</bdi>', html)
    assert re.search(r'id="funnel-signups"><bdi>0</bdi>', html)
    assert sara.referral_code not in html and "Ahmadi" not in html


def test_the_board_shows_first_names_and_my_rank(app, client, new_client, make_member):
    sara = make_member(password=PASSWORD, display_name="Sara Ahmadi")
    with app.app_context():
        set_rules(db.session, datetime.now(UTC), qualify_on="signup", velocity_ip_per_hour=100)
    for n in range(2):
        browser = new_client()
        browser.get(f"/r/{sara.referral_code}")
        join(browser, f"friend{n}@example.com")
    sign_in(client, sara)
    html = client.get("/invite").get_data(as_text=True)
    board = html[html.index('class="invite-board"'):]
    assert "<bdi>Sara</bdi>" in board and "Ahmadi" not in board and 'aria-current="true"' in board
    assert "Your rank this month: 1, with 2 friends." in html


def test_the_dashboard_has_an_invite_card(app, client, make_member):
    sign_in(client, make_member(password=PASSWORD))
    html = client.get("/me").get_data(as_text=True)
    card = html[html.index('id="invite-card"'):]
    assert 'href="/invite"' in card and "500 points" in card
    assert 'class="nav-wide-only"><a href="/invite"' in html


# -- the share counter ------------------------------------------------------------


def test_a_share_press_is_recorded(app, client, make_member):
    sara = sign_in(client, make_member(password=PASSWORD))
    token = csrf_token(client, "/invite")
    response = client.post("/invite/share", data={"channel": "whatsapp"}, headers={"X-CSRFToken": token})
    assert response.status_code == 204
    with app.app_context():
        assert db.session.scalars(select(ReferralShare.channel).where(ReferralShare.member_id == sara.id)).all() \
            == ["whatsapp"]


@pytest.mark.parametrize("channel", ["", "myspace", "x" * 200])
def test_an_unknown_share_channel_is_refused_with_a_reason(app, client, make_member, channel):
    sign_in(client, make_member(password=PASSWORD))
    token = csrf_token(client, "/invite")
    response = client.post("/invite/share", data={"channel": channel}, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "share_channel_invalid"
    assert "whatsapp" in response.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count(ReferralShare.id))) == 0


def test_the_share_counter_needs_the_csrf_token_and_a_member(app, client, make_member):
    assert client.post("/invite/share", data={"channel": "sms"}).status_code in (302, 400)
    sign_in(client, make_member(password=PASSWORD))
    assert client.post("/invite/share", data={"channel": "sms"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(ReferralShare.id))) == 0


def test_the_share_counter_is_rate_limited(app, client, make_member):
    sign_in(client, make_member(password=PASSWORD))
    token = csrf_token(client, "/invite")
    codes = [client.post("/invite/share", data={"channel": "copy"}, headers={"X-CSRFToken": token}).status_code
             for _ in range(31)]
    assert codes[:30] == [204] * 30 and codes[30] == 429


def test_a_marketers_campaign_link_is_counted_and_attributed_with_its_campaign(app, client):
    from webapp.models import Marketer

    with app.app_context():
        marketer = Marketer(name="Coffee Blog", code="BLOG2026", email="blog@partners.example.com")
        db.session.add(marketer)
        db.session.commit()
        marketer_id = marketer.id
    html = client.get("/r/blog2026?c=Insta-Story").get_data(as_text=True)
    assert meta(html, "og:url") == "http://localhost/r/BLOG2026?c=insta-story"
    assert meta(html, "og:title") == "Coffee Blog invites you to Vafa club"
    with app.app_context():
        row = db.session.scalars(select(ReferralOpen)).one()
        assert (row.marketer_id, row.campaign, row.referrer_id) == (marketer_id, "insta-story", None)
    join(client, "reader@example.com")
    referral = referral_of(app, "reader@example.com")
    assert (referral.marketer_id, referral.campaign, referral.referrer_id) == (marketer_id, "insta-story", None)


def test_an_empty_board_says_so_once_and_a_ranked_member_sees_their_rank(app, client, make_member):
    from tests.helpers.referrals import code_of, join_through
    from webapp.models import utcnow

    me = make_member(email="ranked@example.com", password=PASSWORD, display_name="Sara Ahmadi")
    sign_in(client, me)
    page = client.get("/invite").get_data(as_text=True)
    assert "Nobody is on the board yet this month" in page and 'id="invite-rank"' not in page

    with app.app_context():
        set_rules(db.session, utcnow(), qualify_on="signup")
        join_through(db.session, code_of(db.session, me.id), utcnow())
    page = client.get("/invite").get_data(as_text=True)
    assert "Nobody is on the board" not in page
    assert "Your rank this month: 1, with 1 friend." in page


# -- the funnel's counters and the page's cost ------------------------------------------


def test_invite_for_a_returning_member_reads_counters_not_rows(app, client, new_client, make_member,
                                                             count_queries):
    sara = make_member(password=PASSWORD, display_name="Sara Ahmadi")
    with app.app_context():
        set_rules(db.session, datetime.now(UTC), qualify_on="signup", velocity_ip_per_hour=100)
    for n in range(3):
        browser = new_client()
        browser.get(f"/r/{sara.referral_code}")
        if n < 2:
            join(browser, f"friend{n}@example.com")
    sign_in(client, sara)
    client.get("/invite")  # caches warm: configuration, QR code, the month's standings
    with count_queries() as statements:
        html = client.get("/invite").get_data(as_text=True)
    assert re.search(r'id="funnel-opens"><bdi>3</bdi>', html)
    assert re.search(r'id="funnel-signups"><bdi>2</bdi>', html)
    assert re.search(r'id="funnel-qualified"><bdi>2</bdi>', html)
    assert "Your rank this month: 1, with 2 friends." in html
    # nothing that grows with opens, friends or members is read per request: the
    # signed-in member (with the layout's badge) and their counters, one row each
    assert not [s for s in statements if re.search(r"\b(referral_open|referral|ledger_entry)\b", s)], statements
    assert "FROM member" in statements[0] and "FROM referrer_tally" in statements[1]
    # club settings come from the configuration cache: nothing else
    assert len(statements) == 2, statements


def test_the_funnel_counters_follow_every_change_and_doctor_agrees(app, client, new_client, make_member, now):
    from tests.helpers.referrals import join_through
    from webapp.services.referrals import stats, tally

    sara = make_member(password=PASSWORD)
    with app.app_context():
        set_rules(db.session, now, qualify_on="purchase", min_purchase=1000, referrer_kind="points",
                  referrer_amount=50, velocity_ip_per_hour=100)
    for _ in range(2):
        new_client().get(f"/r/{sara.referral_code}")
    with app.app_context():
        s = db.session
        a, _ = join_through(s, sara.referral_code, now)
        b, _ = join_through(s, sara.referral_code, now)
        join_through(s, sara.referral_code, now)  # never buys: expires
        buy(s, a, 5000, now)  # qualifies: 50 points to Sara
        purchase = buy(s, b, 5000, now)  # qualifies, then the refund reverses it
        purchases.refund_purchase(s, purchase_id=purchase.id, amount=5000, now=now + timedelta(hours=2),
                                  external_ref="refund-1")
        s.commit()
        referrals.expire_overdue(s, now + timedelta(days=400))
        s.commit()
        kept = tally.read(s, sara.id)
        assert tally.mismatches(s) == []
        assert (kept.opens, kept.signups, kept.pending, kept.qualified, kept.reversed) == (2, 3, 0, 1, 1)
        assert kept.points_earned == 50
        assert stats.funnel(s, referrer_id=sara.id) == stats.member_funnel(kept)
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 0, result.output


def test_doctor_names_a_funnel_counter_that_disagrees_with_the_rows(app, client, new_client, make_member):
    sara = make_member(password=PASSWORD)
    new_client().get(f"/r/{sara.referral_code}")
    with app.app_context():
        db.session.execute(text("UPDATE referrer_tally SET opens = opens + 5"))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert f"member {sara.id}: invite opens 6 != rows 1" in result.output
