"""The e-mail channel end to end: a real RQ worker sends through a real local SMTP
server (aiosmtpd); what arrives is read like a mail client would. Members use
the links inside (unsubscribe, open pixel, click redirect) through the real app."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.helpers.web import MEMBER_PASSWORD, csrf_token, in_db, log_in
from webapp.models import Member, OutboxMessage
from webapp.services import messages
from webapp.services.messages import links, policy
from webapp.services.messages.channels import Outgoing, Retry
from webapp.services.messages.channels.email import SmtpSender
from webapp.services.messages.render import render
from webapp.services.messages.texts import default_text

PUBLIC = "https://club.test"
NASTY = '<script>alert("x")</script> Sara'


@pytest.fixture
def mail_app(app, smtp_server):
    app.config.update(smtp_server.config(), VAFA_PUBLIC_URL=PUBLIC)
    return app


@pytest.fixture
def consenting(app, make_member):
    """Factory: a committed member who allows e-mail and SMS, able to log in."""

    def make(**kwargs) -> Member:
        member = make_member(password=MEMBER_PASSWORD, **kwargs)

        def agree(session):
            m = session.get(Member, member.id)
            m.consent_email = m.consent_sms = True
            session.commit()

        in_db(app, agree)
        return member

    return make


def _send(app, member_id: int, kind: str, *, key: str | None = None, params: dict | None = None,
          address: str | None = None) -> None:
    from webapp.extensions import db

    with app.app_context():
        messages.notify(db.session, member_id=member_id, kind=kind, params=params or {},
                        key=key or f"{kind}:{member_id}", now=datetime.now(UTC), channels=("email",),
                        address=address)
        db.session.commit()  # wakes a worker


def _row(app, key: str) -> OutboxMessage:
    return in_db(app, lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one())


def _consent(app, member_id: int) -> tuple[bool, bool]:
    return in_db(app, lambda s: (lambda m: (m.consent_email, m.consent_sms))(s.get(Member, member_id)))


def _path(url: str) -> str:
    assert url.startswith(PUBLIC + "/")
    return url[len(PUBLIC):]


def _header(mail, name: str) -> str | None:
    """A header as a client reads it: a long one arrives folded onto its own line."""
    value = mail[name]
    return None if value is None else str(value).strip()


def _checked(html: str, field: str) -> bool:
    [tag] = re.findall(rf'<input[^>]*\bid="{field}"[^>]*>', html)
    return re.search(r"\schecked\b", tag) is not None


def _html(mail) -> str:
    return mail.get_body(("html",)).get_content()


def _by_to(mails, address: str):
    [mail] = [m for m in mails if m["To"] == address]
    return mail


def test_mail_arrives_as_text_and_html_in_each_members_language_and_direction(mail_app, consenting,
                                                                             run_worker, smtp_server):
    persian = consenting(email="fa@example.com", locale="fa", display_name=NASTY)
    english = consenting(email="en@example.com", locale="en", display_name=NASTY)
    for member in (persian, english):
        _send(mail_app, member.id, "tier_upgrade", params={"tier": "Gold", "multiplier": 2})
    run_worker()
    mails = smtp_server.wait_for(2)
    fa, en = _by_to(mails, "fa@example.com"), _by_to(mails, "en@example.com")
    for mail, lang, direction in ((fa, "fa", "rtl"), (en, "en", "ltr")):
        assert mail.get_content_type() == "multipart/alternative"
        html = _html(mail)
        assert f'<html lang="{lang}" dir="{direction}">' in html
        assert "<script>" not in html and "&lt;script&gt;alert(" in html  # the body is escaped
        assert NASTY in mail.get_body(("plain",)).get_content()  # plain text stays as written
        assert re.search(r'<a href="https://club\.test/m/c/[^"]+"', html)  # the button, tracked
    assert fa["Subject"] == "به سطح Gold رسیدید" and en["Subject"] == "You are now Gold"
    assert "باشگاه وفا" in fa["From"] and "Vafa club" in en["From"]


def test_the_one_click_unsubscribe_headers_are_on_news_and_offers_only(mail_app, consenting, run_worker,
                                                                     smtp_server):
    member = consenting(email="h@example.com", locale="en")
    _send(mail_app, member.id, "tier_upgrade", params={"tier": "Gold", "multiplier": 2})  # notice
    _send(mail_app, member.id, "birthday", params={"points": 100})  # marketing
    _send(mail_app, member.id, "reward_redeemed",
          params={"reward": "Tea", "coupon": "TEA-1", "points": 50})  # transactional
    _send(mail_app, member.id, "password_reset", params={"link": f"{PUBLIC}/password/reset/t", "minutes": 30},
          address="h@example.com")  # essential
    run_worker()
    mails = smtp_server.wait_for(4)
    assert len(mails) == 4
    unsubscribe = links.unsubscribe_url(mail_app.config, member.id, "email")
    one_click = (f"<{unsubscribe}>", "List-Unsubscribe=One-Click")
    by_kind = {}
    for mail in mails:
        row = in_db(mail_app, lambda s, m=mail: s.get(OutboxMessage, int(m["X-Vafa-Message"])))
        by_kind[row.kind] = (_header(mail, "List-Unsubscribe"), _header(mail, "List-Unsubscribe-Post"),
                             _html(mail))
    for kind in ("tier_upgrade", "birthday"):
        assert by_kind[kind][:2] == one_click
        assert f'href="{unsubscribe}"' in by_kind[kind][2]
    for kind in ("reward_redeemed", "password_reset"):
        assert by_kind[kind][:2] == (None, None)
        assert "/unsubscribe/" not in by_kind[kind][2]
    reset = by_kind["password_reset"][2]
    assert f'href="{PUBLIC}/password/reset/t"' in reset and "/m/o/" not in reset  # essential: not tracked


def test_a_one_click_post_unsubscribes_that_member_from_that_channel_only(mail_app, client, consenting,
                                                                        run_worker, smtp_server):
    reader = consenting(email="reader@example.com", mobile="09121110000", locale="en")
    other = consenting(email="other@example.com", mobile="09121110001", locale="en")
    for member in (reader, other):
        _send(mail_app, member.id, "birthday", params={"points": 100})
    run_worker()
    mail = _by_to(smtp_server.wait_for(2), "reader@example.com")
    url = _header(mail, "List-Unsubscribe").strip("<>")
    # what a mail provider sends (RFC 8058): no cookie, no CSRF token
    response = client.post(_path(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _consent(mail_app, reader.id) == (False, True)  # e-mail off, SMS untouched
    assert _consent(mail_app, other.id) == (True, True)
    assert client.post(_path(url), data={"List-Unsubscribe": "One-Click"}).status_code == 200  # again: fine
    log_in(client, "reader@example.com")
    settings = client.get("/me/settings").get_data(as_text=True)
    assert (_checked(settings, "consent_email"), _checked(settings, "consent_sms")) == (False, True)


def test_a_forged_or_altered_unsubscribe_token_changes_nothing(mail_app, client, consenting):
    member = consenting(email="f@example.com")
    genuine = links.sign(mail_app.config, "unsubscribe", [member.id, "email"])
    forged = [
        genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),  # altered signature
        links.sign({"SECRET_KEY": "another"}, "unsubscribe", [member.id, "email"]),  # another key
        links.sign(mail_app.config, "open", [member.id, "email"]),  # signed for another purpose
        links.sign(mail_app.config, "unsubscribe", [member.id, "inbox"]),  # no such consent
        links.sign(mail_app.config, "unsubscribe", [member.id + 1000, "email"]),  # no such member
        "nonsense",
    ]
    for token in forged:
        assert client.get(f"/unsubscribe/{token}").status_code == 404
        response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 404
        assert "does not work" in response.get_data(as_text=True)
    assert _consent(mail_app, member.id) == (True, True)


def test_the_unsubscribe_page_asks_in_the_members_language_and_its_form_needs_csrf(mail_app, client,
                                                                                   consenting):
    member = consenting(email="p@example.com", locale="fa")
    path = _path(links.unsubscribe_url(mail_app.config, member.id, "email"))
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert 'name="csrf_token"' in html and f'action="{path}"' in html
    assert client.post(path, data={}).status_code == 400  # neither a form nor a one-click POST
    assert _consent(mail_app, member.id) == (True, True)
    token = csrf_token(client, path)
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200 and 'role="status"' in done.get_data(as_text=True)
    assert _consent(mail_app, member.id) == (False, True)
    assert client.post(path, data={"csrf_token": token}).status_code == 200  # idempotent


def test_the_unsubscribe_link_is_rate_limited(mail_app, client, consenting):
    mail_app.config["UNSUBSCRIBE_RATE_LIMIT"] = "3 per minute"
    member = consenting(email="r@example.com")
    path = _path(links.unsubscribe_url(mail_app.config, member.id, "email"))
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 429
    assert _consent(mail_app, member.id) == (True, True)


def _links_of(html: str) -> tuple[str, str]:
    pixel = re.search(r'<img src="(https://club\.test/m/o/[^"]+)"', html).group(1)
    click = re.search(r'<a href="(https://club\.test/m/c/[^"]+)"', html).group(1)
    return pixel, click


def test_the_pixel_and_the_click_note_the_first_time_only(mail_app, client, consenting, run_worker,
                                                         smtp_server):
    member = consenting(email="t@example.com", locale="en")
    _send(mail_app, member.id, "tier_upgrade", key="one", params={"tier": "Gold", "multiplier": 2})
    _send(mail_app, member.id, "birthday", key="two", params={"points": 100})
    run_worker()
    mails = smtp_server.wait_for(2)
    by_key = {_row(mail_app, k).id: k for k in ("one", "two")}
    html = {by_key[int(m["X-Vafa-Message"])]: _html(m) for m in mails}
    pixel, click = _links_of(html["one"])

    seen = client.get(_path(pixel))
    assert (seen.status_code, seen.mimetype, seen.data[:6]) == (200, "image/gif", b"GIF89a")
    assert "no-store" in seen.headers["Cache-Control"]
    first = _row(mail_app, "one")
    assert first.opened_at is not None and first.clicked_at is None
    time.sleep(0.01)
    client.get(_path(pixel))
    assert _row(mail_app, "one").opened_at == first.opened_at

    went = client.get(_path(click))
    assert (went.status_code, went.headers["Location"]) == (302, f"{PUBLIC}/me/inbox")
    clicked = _row(mail_app, "one").clicked_at
    assert clicked is not None
    time.sleep(0.01)
    client.get(_path(click))
    assert _row(mail_app, "one").clicked_at == clicked

    _, other_click = _links_of(html["two"])  # clicked before its pixel loaded: opened too
    client.get(_path(other_click))
    second = _row(mail_app, "two")
    assert second.clicked_at is not None and second.opened_at == second.clicked_at


def test_a_tampered_tracking_link_changes_nothing_and_never_redirects_elsewhere(mail_app, client,
                                                                               consenting, run_worker,
                                                                               smtp_server):
    member = consenting(email="x@example.com", locale="en")
    _send(mail_app, member.id, "tier_upgrade", key="t", params={"tier": "Gold", "multiplier": 2})
    run_worker()
    [mail] = smtp_server.wait_for(1)
    row_id = _row(mail_app, "t").id
    pixel, click = _links_of(_html(mail))
    # the same payload with the URL changed, signed with another key, or cut short
    evil = [
        links.click_url({"SECRET_KEY": "guess", "VAFA_PUBLIC_URL": PUBLIC}, row_id, "https://evil.example/"),
        links.click_url(mail_app.config, row_id, "https://club.test/me")[:-3] + "xyz",
        click[:-4] + ("AAAA" if not click.endswith("AAAA") else "BBBB"),
        links.open_url(mail_app.config, row_id).replace("/m/o/", "/m/c/"),  # a pixel token as a click
    ]
    for url in evil:
        response = client.get(_path(url))
        assert response.status_code == 404 and "Location" not in response.headers
    bad_pixel = client.get(_path(pixel)[:-4] + "AAAA")
    assert (bad_pixel.status_code, bad_pixel.mimetype) == (200, "image/gif")  # still a picture
    row = _row(mail_app, "t")
    assert (row.opened_at, row.clicked_at) == (None, None)


def test_without_tracking_there_is_no_pixel_and_the_button_leads_straight(mail_app, consenting,
                                                                          run_worker, smtp_server):
    from webapp.services.members import audit
    from webapp.services.settings import store_setting

    member = consenting(email="n@example.com", locale="en")

    def switch_off(session):
        new = policy.MessagingSettings(track_opens=False, track_clicks=False)
        store_setting(session, policy.SETTING, policy.MessagingSettings(), new, actor=audit.CLI,
                      now=datetime.now(UTC))
        session.commit()

    in_db(mail_app, switch_off)
    _send(mail_app, member.id, "tier_upgrade", params={"tier": "Gold", "multiplier": 2})
    run_worker()
    html = _html(smtp_server.wait_for(1)[0])
    assert "/m/o/" not in html and "/m/c/" not in html
    assert f'<a href="{PUBLIC}/me/inbox"' in html


def test_a_push_message_leads_through_the_tracked_click(session, now):
    from tests import factories

    member = factories.member(session, locale="en")
    messages.notify(session, member_id=member.id, kind="tier_upgrade", params={"tier": "Gold", "multiplier": 2,
                    "path": "/me/tier"}, key="p", now=now, channels=("push",))
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "p")).one()
    config = {"SECRET_KEY": "k", "VAFA_PUBLIC_URL": PUBLIC}
    tracked = render(row, member, config, default_text("tier_upgrade", "en"), to=str(member.id),
                     tracking=policy.MessagingSettings())
    assert links.click_target(config, tracked.url.rsplit("/", 1)[1]) == (row.id, f"{PUBLIC}/me/tier")
    plain = render(row, member, config, default_text("tier_upgrade", "en"), to=str(member.id),
                   tracking=policy.MessagingSettings(track_clicks=False))
    assert plain.url == f"{PUBLIC}/me/tier" and plain.html is None


def _outgoing(n: int, to: str = "r@example.com") -> Outgoing:
    return Outgoing(id=n, channel="email", kind="welcome", category="transactional", member_id=1, to=to,
                    locale="en", subject=f"Message {n}", text="Hello")


def test_the_sender_reconnects_once_when_the_server_restarted_between_two_messages(smtp_server):
    sender = SmtpSender(smtp_server.config())
    try:
        sender.send(_outgoing(1))
        first_connection = sender.connection
        smtp_server.stop()  # the server goes away with our open connection ...
        smtp_server.controller = type(smtp_server.controller)(
            smtp_server.controller.handler, hostname="127.0.0.1", port=smtp_server.port)
        smtp_server.start()  # ... and is back before the next message
        sender.send(_outgoing(2))
        assert sender.connection is not first_connection
        assert [m["Subject"] for m in smtp_server.wait_for(2)] == ["Message 1", "Message 2"]
        smtp_server.stop()
        with pytest.raises(Retry):  # gone for good: the message waits for a retry
            sender.send(_outgoing(3))
    finally:
        sender.close()
        smtp_server.controller = type(smtp_server.controller)(
            smtp_server.controller.handler, hostname="127.0.0.1", port=smtp_server.port)
        smtp_server.start()


def test_the_sender_signs_in_when_smtp_user_is_set():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.helpers.mail import MailServer, _Keeper

    logins = []

    def authenticator(_server, _session, _envelope, _mechanism, data):
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"right", handled=False)

    server = MailServer()
    server.controller = Controller(_Keeper(server), hostname="127.0.0.1", port=server.port,
                                   authenticator=authenticator, auth_require_tls=False,
                                   auth_exclude_mechanism=["LOGIN"])  # smtplib then uses PLAIN
    server.start()
    try:
        good = SmtpSender({**server.config(), "SMTP_USER": "club", "SMTP_PASSWORD": "right"})
        good.send(_outgoing(1))
        good.close()
        assert [m["Subject"] for m in server.wait_for(1)] == ["Message 1"]
        wrong = SmtpSender({**server.config(), "SMTP_USER": "club", "SMTP_PASSWORD": "wrong"})
        with pytest.raises(Retry, match="login refused"):  # our settings are wrong: the message waits
            wrong.send(_outgoing(2))
        assert logins == [(b"club", b"right"), (b"club", b"wrong")]
    finally:
        server.stop()


def _self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_the_sender_speaks_tls_as_smtp_tls_says_and_checks_the_certificate(mode, tmp_path, monkeypatch):
    import ssl

    from aiosmtpd.controller import Controller

    from tests.helpers.mail import MailServer, _Keeper

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = MailServer()
    options = {"tls_context": server_tls, "require_starttls": True} if mode == "starttls" else {
        "ssl_context": server_tls}
    server.controller = Controller(_Keeper(server), hostname="127.0.0.1", port=server.port, **options)
    server.start()
    config = {**server.config(), "SMTP_TLS": mode}
    try:
        untrusted = SmtpSender(config)
        with pytest.raises(Retry):  # a certificate nobody vouches for is not good enough
            untrusted.send(_outgoing(1))
        monkeypatch.setenv("SSL_CERT_FILE", cert)  # now the club trusts it
        trusted = SmtpSender(config)
        trusted.send(_outgoing(2))
        trusted.close()
        assert [m["Subject"] for m in server.wait_for(1)] == ["Message 2"]
        if mode == "starttls":  # the server insists on TLS: plain SMTP is not an option
            with pytest.raises(Retry):
                SmtpSender({**config, "SMTP_TLS": "none"}).send(_outgoing(3))
    finally:
        server.stop()
