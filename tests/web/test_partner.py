"""/partner: marketers outside the member base sign in there (one answer for
unknown accounts, rate-limited, revocable sessions); members promoted to
marketers see the dashboard as members; nobody sees another marketer's data;
a marketer session is not a member session."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.helpers.referrals import join_through, set_rules
from tests.helpers.web import in_db, post_form
from webapp.models import Marketer
from webapp.services import referrals
from webapp.services.members import audit
from webapp.services.referrals import marketer_ledger, marketers
from webapp.services.referrals.marketers import MarketerTerms

PASSWORD = "partner-pass-1"


def make(app, email, code, *, balance=0, campaign=None, password=PASSWORD):
    def build(s):
        now = datetime.now(UTC)
        m = marketers.create_marketer(s, MarketerTerms(f"Marketer {code}", commission_amount=1_000), email=email,
                                      password=password, code=code, actor=audit.CLI, now=now)
        if balance:
            marketer_ledger.post(s, marketer_id=m.id, amount=balance, kind="adjustment", key=f"fund:{m.id}", now=now)
        s.commit()
        if campaign:
            link = referrals.resolve(s, code, campaign)
            referrals.record_open(s, link, visitor=f"v-{code}", user_agent="Mozilla/5.0 (Linux; Android 14)", now=now)
            s.commit()
        return m.id
    return in_db(app, build)


def sign_in(client, email, password=PASSWORD):
    return post_form(client, "/partner/login", {"email": email, "password": password})


def test_nobody_signed_in_is_sent_to_the_partner_sign_in(client):
    response = client.get("/partner")
    assert response.status_code == 302 and response.headers["Location"] == "/partner/login?next=/partner"


def test_unknown_accounts_wrong_passwords_and_suspended_marketers_get_one_answer(app, client):
    marketer_id = make(app, "nima@partners.example.com", "NAMA2")
    in_db(app, lambda s: (marketers.set_status(s, marketer_id, "suspended", actor=audit.CLI, now=datetime.now(UTC)),
                          s.commit()))
    answers = set()
    for email, password in (("nobody@partners.example.com", PASSWORD), ("nima@partners.example.com", "wrong-pass"),
                            ("nima@partners.example.com", PASSWORD)):
        response = sign_in(client, email, password)
        assert response.status_code == 422
        answers.add("That e-mail and password do not match." in response.get_data(as_text=True))
    assert answers == {True}


def test_a_marketer_signs_in_sees_their_dashboard_and_builds_campaign_links(app, client):
    make(app, "nima@partners.example.com", "NAMA2", balance=12_000, campaign="insta")
    assert sign_in(client, "NIMA@partners.example.com").headers["Location"] == "/partner"
    page = client.get("/partner").get_data(as_text=True)
    assert "http://localhost/r/NAMA2" in page and "<svg" in page and "partner-qr-svg" in page
    assert "IRR\xa012,000" in page or "12,000" in page
    assert "insta" in page
    tagged = client.get("/partner?c=Flyer-1").get_data(as_text=True)
    assert "http://localhost/r/NAMA2?c=flyer-1" in tagged
    bad = client.get("/partner?c=bad tag!").get_data(as_text=True)
    assert "Use lower-case Latin letters" in bad and 'value="http://localhost/r/NAMA2"' in bad
    fragment = client.get("/partner?c=story", headers={"HX-Request": "true", "HX-Target": "campaign-link"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card partner-link" id="campaign-link"') and "?c=story" in html
    persian = app.test_client()
    persian.set_cookie("vafa_locale", "fa")
    sign_in(persian, "nima@partners.example.com")
    assert "۱۲٬۰۰۰" in persian.get("/partner").get_data(as_text=True)


def test_a_marketer_never_sees_another_marketers_data(app, client):
    make(app, "a@partners.example.com", "AAAA2", balance=1_111)
    make(app, "b@partners.example.com", "BBBB2", balance=98_765, campaign="secret-b")
    sign_in(client, "a@partners.example.com")
    page = client.get("/partner").get_data(as_text=True)
    assert "AAAA2" in page
    assert "BBBB2" not in page and "secret-b" not in page and "98,765" not in page
    # no marketer ids in URLs: the campaign builder only ever uses the signed-in marketer's code
    assert "BBBB2" not in client.get("/partner?c=secret-b").get_data(as_text=True)


def test_a_marketer_session_is_not_a_member_session(app, client):
    make(app, "nima@partners.example.com", "NAMA2")
    sign_in(client, "nima@partners.example.com")
    for url in ("/me", "/me/activity", "/me/settings", "/rewards"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    assert client.get("/admin/").status_code == 302
    assert client.get("/login").status_code == 200  # they may sign in as a member from here


def test_a_member_who_is_not_a_marketer_gets_404_and_a_promoted_member_sees_the_dashboard(app, client, make_member):
    member = make_member(email="sara@example.com", password="member-pass-1")
    assert post_form(client, "/login", {"login": "sara@example.com", "password": "member-pass-1"}).status_code == 302
    assert client.get("/partner").status_code == 404
    assert "partner-card" not in client.get("/me").get_data(as_text=True)
    in_db(app, lambda s: (marketers.promote_member(s, MarketerTerms("Sara"), login=member.email, code="SARA2",
                                                   actor=audit.CLI, now=datetime.now(UTC)), s.commit()))
    page = client.get("/partner")
    assert page.status_code == 200 and "/r/SARA2" in page.get_data(as_text=True)
    assert 'href="/partner"' in client.get("/me").get_data(as_text=True)
    assert client.get("/partner/login").headers["Location"] == "/partner"
    # a member-backed marketer cannot use the partner sign-in with their member password
    other = app.test_client()
    assert sign_in(other, "sara@example.com", "member-pass-1").status_code == 422


def test_a_friend_who_joins_through_the_marketers_link_shows_in_their_funnel(app, client, now):
    make(app, "nima@partners.example.com", "NAMA2", campaign="insta")
    in_db(app, lambda s: (set_rules(s, now, qualify_on="signup"), join_through(s, "NAMA2", now, campaign="insta")))
    sign_in(client, "nima@partners.example.com")
    page = client.get("/partner").get_data(as_text=True)
    balance = re.search(r'id="partner-balance"><bdi>([^<]+)<', page).group(1)
    assert balance == "IRR\xa01,000" and 'id="partner-entries"' in page
    funnel = re.search(r'id="partner-funnel">(.*?)</dl>', page, re.S).group(1)
    assert re.findall(r"<dd>([^<]+)</dd>", funnel) == ["1", "1", "1", "100%"]


def test_logging_out_everywhere_ends_other_sessions(app, client):
    marketer_id = make(app, "nima@partners.example.com", "NAMA2")
    other = app.test_client()
    sign_in(client, "nima@partners.example.com")
    sign_in(other, "nima@partners.example.com")
    page = client.get("/partner/logout")
    assert page.status_code == 200 and 'name="everywhere"' in page.get_data(as_text=True)
    assert post_form(client, "/partner/logout", {"everywhere": "y"}).headers["Location"] == "/partner/login"
    assert client.get("/partner").status_code == 302
    assert other.get("/partner").status_code == 302  # the token was rotated
    assert in_db(app, lambda s: s.get(Marketer, marketer_id).last_login_at) is not None


def test_suspending_ends_a_signed_in_marketers_session(app, client):
    marketer_id = make(app, "nima@partners.example.com", "NAMA2")
    sign_in(client, "nima@partners.example.com")
    assert client.get("/partner").status_code == 200
    in_db(app, lambda s: (marketers.set_status(s, marketer_id, "suspended", actor=audit.CLI, now=datetime.now(UTC)),
                          s.commit()))
    assert client.get("/partner").status_code == 302


def test_sign_in_needs_the_csrf_token_and_is_rate_limited(app, client):
    make(app, "nima@partners.example.com", "NAMA2")
    assert client.post("/partner/login", data={"email": "nima@partners.example.com", "password": PASSWORD}
                       ).status_code == 400
    assert client.post("/partner/logout", data={}).status_code == 400
    codes = [sign_in(client, "nima@partners.example.com", "wrong-pass").status_code for _ in range(11)]
    assert codes[:10] == [422] * 10 and codes[10] == 429
