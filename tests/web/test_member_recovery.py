"""No member is ever locked out: sign in with an SMS code, reset a password by an
SMS code or an e-mailed link. Codes are read from a real local SMS server and
links from a real local SMTP server, after a real RQ worker delivered them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.helpers.http_recorder import Answer
from tests.helpers.web import MEMBER_PASSWORD, in_db, log_in, post_form
from webapp.models import Member, OutboxMessage, RecoveryCode

MOBILE = "09121234567"
NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture
def sms(app, http_recorder):
    app.config.update(VAFA_SMS_SENDER="http", VAFA_SMS_URL=http_recorder.url, VAFA_SMS_TOKEN="t")
    http_recorder.default = Answer(200, {"id": "p"})
    return http_recorder


@pytest.fixture
def mail(app, smtp_server):
    app.config.update(smtp_server.config())
    return smtp_server


def _last_code(recorder) -> str:
    return re.search(r"\b(\d{6})\b", recorder.requests[-1].json()["text"]).group(1)


def _signed_in(client) -> bool:
    return client.get("/me").status_code == 200


def _ask_code(client, mobile=MOBILE):
    return post_form(client, "/login/code", {"mobile": mobile})


def _send_code(client, code, mobile=MOBILE):
    return post_form(client, "/login/code", {"mobile": mobile, "code": code})


def test_the_login_page_offers_a_reset_and_a_code(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html and 'href="/login/code"' in html


def test_a_member_without_a_password_signs_in_with_a_code_from_the_sms(app, client, make_member, run_worker, sms):
    make_member(mobile=MOBILE)  # joined at the till: no password
    asked = _ask_code(client, "۰۹۱۲ ۱۲۳ ۴۵۶۷")  # Persian digits and spaces, as a phone keyboard types
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/login/code")
    page = client.get("/login/code").get_data(as_text=True)
    assert 'name="code"' in page and "+989121234567" in page
    assert sms.requests == []  # sent by the worker after commit, never by the request
    run_worker()
    [got] = sms.requests
    assert got.json()["to"] == "+989121234567"
    code = _last_code(sms)
    assert not _signed_in(client)
    response = _send_code(client, "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in code))  # typed in Persian digits
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    assert _signed_in(client)
    row = in_db(app, lambda s: s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "sign_in_code")))
    assert row.params["code"] == "" and row.segments == 1  # the code does not outlive its delivery


def test_a_code_works_once(app, client, make_member, run_worker, sms):
    make_member(mobile=MOBILE)
    _ask_code(client)
    run_worker()
    code = _last_code(sms)
    assert _send_code(client, code).status_code == 302
    post_form(client, "/logout", {})
    again = _send_code(client, code)
    assert again.status_code == 422 and "wrong, used or expired" in again.get_data(as_text=True)
    assert not _signed_in(client)


def test_five_wrong_codes_kill_the_code(app, client, make_member, run_worker, sms):
    make_member(mobile=MOBILE)
    _ask_code(client)
    run_worker()
    code = _last_code(sms)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for _ in range(5):
        assert _send_code(client, wrong).status_code == 422
    assert _send_code(client, code).status_code == 422  # the right one, too late
    assert not _signed_in(client)
    tries = in_db(app, lambda s: s.scalar(select(RecoveryCode.tries)))
    assert tries == 5


def test_an_expired_code_is_refused(app, client, make_member, run_worker, sms):
    make_member(mobile=MOBILE)
    _ask_code(client)
    run_worker()

    def expire(session):
        session.execute(update(RecoveryCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()

    in_db(app, expire)
    assert _send_code(client, _last_code(sms)).status_code == 422
    assert not _signed_in(client)


def test_a_new_code_replaces_the_old_one(app, client, make_member, run_worker, sms):
    make_member(mobile=MOBILE)
    _ask_code(client)
    run_worker()
    first = _last_code(sms)
    _ask_code(client)
    run_worker()
    second = _last_code(sms)
    if first != second:  # one in a million they are equal
        assert _send_code(client, first).status_code == 422
    assert _send_code(client, second).status_code == 302


def test_codes_are_kept_only_as_hmacs(app, client, make_member, run_worker, sms):
    make_member(mobile=MOBILE)
    _ask_code(client)
    run_worker()
    stored = in_db(app, lambda s: s.scalar(select(RecoveryCode.secret_hash)))
    assert re.fullmatch(r"[0-9a-f]{64}", stored) and _last_code(sms) not in stored


def test_an_unknown_mobile_gets_the_same_pages_and_nothing_is_sent(app, client, run_worker, sms):
    asked = _ask_code(client, "09351112233")
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/login/code")
    assert 'name="code"' in client.get("/login/code").get_data(as_text=True)
    forgot = post_form(client, "/password/forgot", {"login": "09351112233"})
    assert forgot.status_code == 302 and forgot.headers["Location"].endswith("/password/code")
    run_worker()
    assert sms.requests == []
    assert _send_code(client, "123456", "09351112233").status_code == 422
    assert in_db(app, lambda s: s.scalar(select(OutboxMessage.id))) is None


def test_an_unknown_email_gets_the_same_page_and_nothing_is_sent(app, client, make_member, run_worker, mail):
    make_member(email="known@example.com", password=MEMBER_PASSWORD)
    known = post_form(client, "/password/forgot", {"login": "known@example.com"})
    unknown = post_form(client, "/password/forgot", {"login": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    run_worker()
    assert [m["To"] for m in mail.wait_for(1)] == ["known@example.com"]


def test_nonsense_is_refused_on_the_form(client):
    response = post_form(client, "/password/forgot", {"login": "not a number"})
    assert response.status_code == 422
    assert "valid e-mail address or mobile number" in response.get_data(as_text=True)
    assert _ask_code(client, "12").status_code == 422


def test_a_password_is_reset_with_an_sms_code_and_other_sessions_end(app, client, make_member, run_worker, sms):
    member = make_member(mobile=MOBILE, password=MEMBER_PASSWORD)
    other = app.test_client()
    log_in(other, MOBILE)
    assert _signed_in(other)
    asked = post_form(client, "/password/forgot", {"login": "+98 912 123 4567"})
    assert asked.headers["Location"].endswith("/password/code")
    run_worker()
    assert sms.requests[-1].json()["to"] == "+989121234567"
    code = _last_code(sms)
    weak = post_form(client, "/password/code", {"code": code, "password": "short"})
    assert weak.status_code == 422  # and the code is not spent on a weak password
    done = post_form(client, "/password/code", {"code": code, "password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/me")
    assert _signed_in(client)  # this browser is signed in with the new password
    assert not _signed_in(other)  # every other session is signed out
    log_in(app.test_client(), MOBILE, NEW_PASSWORD)
    assert in_db(app, lambda s: s.get(Member, member.id).session_token) != member.session_token


def test_a_password_is_reset_with_the_emailed_link_once(app, client, make_member, run_worker, mail):
    make_member(email="reader@example.com", password=MEMBER_PASSWORD, locale="en")
    other = app.test_client()
    log_in(other, "reader@example.com")
    post_form(client, "/password/forgot", {"login": "Reader@Example.com"})
    assert "Check your e-mail" in client.get("/password/sent").get_data(as_text=True)
    run_worker()
    [message] = mail.wait_for(1)
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/password/reset/(\S+)", body)
    assert link and "30 minutes" in body
    path = f"/password/reset/{link.group(1)}"
    assert client.get(path).status_code == 200
    done = post_form(client, path, {"password": NEW_PASSWORD})
    assert done.status_code == 302 and _signed_in(client)
    assert not _signed_in(other)
    log_in(app.test_client(), "reader@example.com", NEW_PASSWORD)
    assert client.get(path).status_code == 404  # used up
    row = in_db(app, lambda s: s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "password_reset")))
    assert row.params["link"] == ""


def test_an_expired_or_forged_link_does_not_reset(app, client, make_member, run_worker, mail):
    make_member(email="late@example.com", password=MEMBER_PASSWORD)
    post_form(client, "/password/forgot", {"login": "late@example.com"})
    run_worker()
    body = mail.wait_for(1)[0].get_body(("plain",)).get_content()
    path = "/password/reset/" + re.search(r"/password/reset/(\S+)", body).group(1)

    def expire(session):
        session.execute(update(RecoveryCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()

    in_db(app, expire)
    assert client.get(path).status_code == 404
    assert post_form(client, path, {"password": NEW_PASSWORD}, form_url="/password/forgot").status_code == 404
    assert client.get("/password/reset/forged-token").status_code == 404
    log_in(app.test_client(), "late@example.com", MEMBER_PASSWORD)  # unchanged


def test_asking_too_often_for_one_address_is_limited_with_a_clear_answer(app, client, make_member, sms):
    make_member(mobile=MOBILE)
    app.config["RECOVERY_ADDRESS_RATE_LIMIT"] = "2 per hour"
    assert [_ask_code(client, m).status_code for m in (MOBILE, "+989121234567")] == [302, 302]
    limited = post_form(client, "/password/forgot", {"login": "۰۹۱۲۱۲۳۴۵۶۷"})  # the same address
    assert limited.status_code == 429
    assert "try again in an hour" in limited.get_data(as_text=True)
    assert _ask_code(client, "09351112233").status_code == 302  # another address is not held up
    assert post_form(client, "/login/code", {"mobile": MOBILE, "code": "000000"}).status_code == 422  # checks go on


def test_one_visitor_asking_too_often_is_limited(app, client):
    app.config["RECOVERY_RATE_LIMIT"] = "2 per minute"
    codes = [post_form(client, "/password/forgot", {"login": f"x{n}@example.com"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]


def test_an_account_gets_at_most_five_codes_an_hour_whatever_its_addresses(app, make_member, now):
    from webapp.extensions import db
    from webapp.services.members import recovery

    make_member(mobile=MOBILE)
    with app.app_context():
        for minute in range(7):
            recovery.request_sign_in_code(db.session, MOBILE, secret_key="k", now=now + timedelta(minutes=minute))
        sent = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "sign_in_code")).all()
        assert len(sent) == recovery.SENT_PER_HOUR
        recovery.request_sign_in_code(db.session, MOBILE, secret_key="k", now=now + timedelta(hours=1, minutes=1))
        assert len(db.session.scalars(select(OutboxMessage.id)).all()) == recovery.SENT_PER_HOUR + 1


@pytest.mark.parametrize("path", ["/password/forgot", "/login/code", "/login"])
@pytest.mark.parametrize(("locale", "direction"), [("fa", "rtl"), ("en", "ltr")])
def test_the_recovery_pages_speak_both_languages(client, path, locale, direction):
    client.set_cookie("vafa_locale", locale)
    html = client.get(path).get_data(as_text=True)
    assert f'lang="{locale}" dir="{direction}"' in html
    assert 'name="csrf_token"' in html and 'name="viewport"' in html


def test_the_code_step_keeps_the_number_left_to_right_in_persian(app, client, make_member):
    make_member(mobile=MOBILE)
    client.set_cookie("vafa_locale", "fa")
    _ask_code(client)
    html = client.get("/login/code").get_data(as_text=True)
    assert '<p dir="ltr"><strong>+989121234567</strong></p>' in html
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html


def test_a_suspended_member_gets_no_code(app, client, make_member, run_worker, sms):
    member = make_member(mobile=MOBILE)

    def suspend(session):
        session.get(Member, member.id).status = "suspended"
        session.commit()

    in_db(app, suspend)
    assert _ask_code(client).status_code == 302  # the same answer
    run_worker()
    assert sms.requests == []


def test_a_hanging_provider_never_holds_up_the_page(app, client, make_member, sms):
    import time

    make_member(mobile=MOBILE)
    sms.default = Answer(200, {"id": "p"}, delay=5)  # the provider would take 5 s to answer
    started = time.monotonic()
    asked = _ask_code(client)
    assert asked.status_code == 302 and time.monotonic() - started < 2
    assert sms.requests == []  # only a worker ever talks to the provider
