"""/me/wallet: balances, the rule in words, an htmx live preview, a no-JavaScript
preview step, and a confirm whose one-time token converts once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.web import csrf_token, post_form

PASSWORD = "a-good-password-1"
HX = {"HX-Request": "true"}


@pytest.fixture
def rate(app):
    """Switch the wallet on: 100 points → 10,000 credit, at least 200, 1,000 a day."""
    from webapp.extensions import db
    from webapp.services.ledger import wallet
    from webapp.services.members import audit

    def set_rate(**changes):
        settings = wallet.WalletSettings(**{"enabled": True, "points_per_step": 100,
                                            "credit_per_step": 10_000, "min_points": 200,
                                            "daily_cap_points": 1_000, **changes})
        with app.app_context():
            wallet.save_wallet_settings(db.session, settings, actor=audit.CLI, now=datetime.now(UTC))
            db.session.commit()

    set_rate()
    return set_rate


@pytest.fixture
def member(make_member, client):
    """A signed-in member with 1,500 points and 7,000 credit."""
    made = make_member(email="wallet@example.com", password=PASSWORD, points=1_500, credit=7_000)
    assert post_form(client, "/login", {"login": made.email, "password": PASSWORD}).status_code == 302
    return made


def balances(app, member_id):
    from webapp.extensions import db
    from webapp.models import Member

    with app.app_context():
        found = db.session.get(Member, member_id)
        return found.points_balance, found.credit_balance


def conversions(app) -> int:
    from webapp.extensions import db
    from webapp.models import LedgerEntry

    with app.app_context():
        return db.session.scalar(select(func.count()).where(LedgerEntry.kind == "convert",
                                                            LedgerEntry.currency == "points"))


def confirm_form(html: str) -> dict:
    """The confirm form's hidden fields, as a browser would send them."""
    form = html.split('action="/me/wallet/convert"')[1].split("</form>")[0]
    return dict(re.findall(r'name="(csrf_token|points|token)" value="([^"]*)"', form))


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("url", ["/me/wallet", "/me/wallet/preview?points=300"])
def test_the_wallet_needs_a_signed_in_member(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_post_to_convert_needs_a_member_and_a_csrf_token(client, make_member, app, rate):
    assert client.post("/me/wallet/convert", data={"points": "200", "token": "t"}).status_code == 400
    made = make_member(email="csrf@example.com", password=PASSWORD, points=1_000)
    post_form(client, "/login", {"login": made.email, "password": PASSWORD})
    response = client.post("/me/wallet/convert", data={"points": "200", "token": "t"})
    assert response.status_code == 400  # no CSRF token: refused before anything happens
    assert balances(app, made.id) == (1_000, 0)


def test_the_page_shows_both_balances_the_rule_and_what_is_available(client, member, rate):
    html = client.get("/me/wallet").get_data(as_text=True)
    assert "1,500" in html and "7,000" in html
    rule = text_of(html.split('id="wallet-rule"')[1].split("</ul>")[0])
    assert "Every 100 points become" in rule and "10,000" in rule
    assert "at least 200 points, in steps of 100" in rule and "Up to 1,000 points a day" in rule
    assert "You can convert up to 1,000 points now" in text_of(html)
    assert 'href="/me"' in html  # back to the dashboard
    assert 'hx-get="/me/wallet/preview"' in html and 'action="/me/wallet/preview"' in html


def test_while_the_wallet_is_off_there_is_no_form(client, member):
    html = client.get("/me/wallet").get_data(as_text=True)
    assert "not available right now" in html
    assert "/me/wallet/convert" not in html and 'name="points"' not in html


def test_the_htmx_preview_is_a_fragment_with_a_confirm_form(client, member, rate):
    response = client.get("/me/wallet/preview?points=300", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<h1" not in html
    assert "300 points become" in text_of(html) and "30,000" in html
    fields = confirm_form(html)
    assert fields["points"] == "300" and len(fields["token"]) >= 20 and fields["csrf_token"]
    assert "HX-Request" in response.headers.get("Vary", "")


def test_the_preview_reads_persian_digits_and_separators(client, member, rate):
    html = client.get("/me/wallet/preview", query_string={"points": "۱٬۰۰۰"}, headers=HX).get_data(as_text=True)
    assert confirm_form(html)["points"] == "1000"


@pytest.mark.parametrize(("points", "says", "suggested"), [
    ("150", "Convert at least 200 points", None),
    ("350", "whole steps of 100", "300"),
    ("1200", "Today you can convert only 1,000 more points", "1000"),
])
def test_the_preview_says_why_not_and_offers_what_would_work(client, member, rate, points, says, suggested):
    html = client.get(f"/me/wallet/preview?points={points}", headers=HX).get_data(as_text=True)
    assert says in text_of(html)
    if suggested:
        assert confirm_form(html)["points"] == suggested
    else:
        assert "/me/wallet/convert" not in html


def test_the_preview_names_the_balance_when_it_is_too_low(client, member, rate):
    rate(daily_cap_points=0)
    html = client.get("/me/wallet/preview?points=2000", headers=HX).get_data(as_text=True)
    assert "You have only 1,500 points" in text_of(html)
    assert confirm_form(html)["points"] == "1500"


@pytest.mark.parametrize("points", ["abc", "-5", "1.5", "", "99999999999"])
def test_the_preview_answers_nonsense_with_a_field_error(client, member, rate, points):
    response = client.get("/me/wallet/preview", query_string={"points": points}, headers=HX)
    assert response.status_code == 200  # htmx swaps only successful answers
    html = response.get_data(as_text=True)
    assert "Enter a whole number of points" in html and "/me/wallet/convert" not in html


def test_without_javascript_preview_then_confirm_converts(app, client, member, rate):
    page = post_form(client, "/me/wallet/preview", {"points": "300"}, form_url="/me/wallet")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1" in html and "300 points become" in text_of(html)
    done = client.post("/me/wallet/convert", data=confirm_form(html))
    assert done.status_code == 302 and done.headers["Location"] == "/me/wallet"
    assert balances(app, member.id) == (1_200, 37_000)
    after = client.get("/me/wallet").get_data(as_text=True)
    assert "Done: 300 points became" in text_of(after)
    recent = text_of(after.split('id="wallet-conversions"')[1].split("</ol>")[0])
    assert "300" in recent and "30,000" in recent
    assert "You can convert up to 700 points now" in text_of(after)  # 1,000 a day minus 300


def test_a_refused_plain_preview_is_422_with_the_reason(client, member, rate):
    page = post_form(client, "/me/wallet/preview", {"points": "zzz"}, form_url="/me/wallet")
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.get_data(as_text=True)


def test_sending_the_confirm_form_twice_converts_once(app, client, member, rate):
    html = client.get("/me/wallet/preview?points=500", headers=HX).get_data(as_text=True)
    fields = confirm_form(html)
    first = client.post("/me/wallet/convert", data=fields)
    second = client.post("/me/wallet/convert", data=fields)
    assert first.status_code == second.status_code == 302
    assert balances(app, member.id) == (1_000, 57_000)
    assert conversions(app) == 1
    assert "already done" in client.get("/me/wallet").get_data(as_text=True)


def test_a_confirm_over_the_cap_is_refused_and_the_page_says_why(app, client, member, rate):
    fields = confirm_form(client.get("/me/wallet/preview?points=600", headers=HX).get_data(as_text=True))
    assert client.post("/me/wallet/convert", data=fields).status_code == 302
    stale = {**fields, "token": "another-tab"}  # the same form sent again from an old tab
    response = client.post("/me/wallet/convert", data=stale)
    assert response.status_code == 422
    assert "Today you can convert only 400 more points" in text_of(response.get_data(as_text=True))
    assert balances(app, member.id) == (900, 67_000)


def test_a_confirm_without_its_token_is_refused(app, client, member, rate):
    response = client.post("/me/wallet/convert", data={"csrf_token": csrf_token(client, "/me/wallet"),
                                                       "points": "200"})
    assert response.status_code == 422
    assert "This form has expired" in response.get_data(as_text=True)
    assert balances(app, member.id) == (1_500, 7_000)


def test_a_member_sees_only_their_own_conversions(app, client, member, rate, make_member):
    from webapp.extensions import db
    from webapp.services.ledger import wallet

    other = make_member(email="other@example.com", points=5_000)
    with app.app_context():
        wallet.convert_points(db.session, member_id=other.id, points=900, key="theirs",
                              now=datetime.now(UTC), tz="Asia/Tehran")
        db.session.commit()
    html = client.get("/me/wallet").get_data(as_text=True)
    assert "You have not converted any points yet" in html and "90,000" not in html


def test_the_wallet_in_persian_is_rtl_with_persian_digits(app, client, make_member, rate):
    made = make_member(email="fa-wallet@example.com", password=PASSWORD, points=1_500, locale="fa")
    post_form(client, "/login", {"login": made.email, "password": PASSWORD})
    html = client.get("/me/wallet").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "۱٬۵۰۰" in html and "1,500" not in html
    preview = client.get("/me/wallet/preview?points=۳۰۰", headers=HX).get_data(as_text=True)
    assert "۳۰٬۰۰۰" in preview and confirm_form(preview)["points"] == "300"
