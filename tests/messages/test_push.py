"""Web push end to end: a member's browser subscribes through the real
`POST /me/push/subscribe`, a real RQ worker sends through the `webpush` sender
to a local push service (the `http_recorder`, over http: the tests set
`VAFA_PUSH_ALLOW_HTTP`, which lets loopback endpoints in), and the test, playing
the browser, decrypts what arrived with its own private key and auth secret
(aes128gcm) and checks the VAPID signature with the club's public key."""

from __future__ import annotations

import base64
import json
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select, update

from tests.helpers.http_recorder import Answer
from tests.helpers.web import MEMBER_PASSWORD, csrf_token, in_db, log_in
from webapp.models import Member, OutboxMessage, PushSubscription
from webapp.services import messages
from webapp.services.messages import vapid
from webapp.services.messages.channels import Outgoing, Refused, Retry
from webapp.services.messages.channels.webpush import (
    MAX_PAYLOAD,
    WebPushSender,
    payload,
    retry_after,
)
from webapp.services.messages.policy import load_messaging_settings
from webapp.services.messages.render import render
from webapp.services.messages.templates import template_for


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser keeps for one push subscription: a P-256 key pair and a
    16-byte auth secret; `keys` is what `PushSubscription.toJSON()` sends."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.keys = {"p256dh": b64url(point), "auth": b64url(self.auth_secret)}

    def read(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                           version="aes128gcm"))


@pytest.fixture
def push_service(app, http_recorder):
    app.config.update(VAFA_PUSH_SENDER="webpush", VAFA_PUSH_ALLOW_HTTP=True)
    http_recorder.default = Answer(201, headers={"Location": f"{http_recorder.url}/messages/m1"})
    return http_recorder


def subscribe(client, endpoint: str, keys: dict, **kwargs):
    token = csrf_token(client, "/me/settings")
    return client.post("/me/push/subscribe", json={"endpoint": endpoint, "keys": keys},
                       headers={"X-CSRFToken": token}, **kwargs)


def unsubscribe(client, endpoint: str):
    token = csrf_token(client, "/me/settings")
    return client.post("/me/push/unsubscribe", json={"endpoint": endpoint}, headers={"X-CSRFToken": token})


def signed_in(app, make_member, **kwargs):
    member = make_member(password=MEMBER_PASSWORD, **kwargs)
    client = app.test_client()
    log_in(client, member.email)
    return member, client


def notify(app, member_id: int, *, kind: str = "reward_redeemed", key: str = "redeem:1") -> int:
    from webapp.extensions import db

    with app.app_context():
        messages.notify(db.session, member_id=member_id, kind=kind, params={"reward": "Tea", "coupon": "TEA-1", "points": 50}, key=key,
                        now=datetime.now(UTC), channels=("push",))
        db.session.commit()  # wakes a worker
        return db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.member_id == member_id, OutboxMessage.key == key))


def row(app, row_id: int) -> OutboxMessage:
    return in_db(app, lambda s: s.get(OutboxMessage, row_id))


def endpoints(app, member_id: int) -> list[str]:
    return in_db(app, lambda s: list(s.scalars(
        select(PushSubscription.endpoint).where(PushSubscription.member_id == member_id)
        .order_by(PushSubscription.id))))


def verify_vapid(authorization: str, public_key_b64: str) -> dict:
    """`vapid t=<JWT>, k=<key>` (RFC 8292): the key is the club's, and the JWT's
    ES256 signature checks out with it; returns the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key_b64
    header, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    return json.loads(unb64url(claims))


def test_a_push_reaches_the_browser_encrypted_for_its_keys_and_signed_with_the_club_key(
        app, make_member, run_worker, push_service):
    member, client = signed_in(app, make_member, display_name="Sara", locale="en")
    browser = Browser()
    answer = subscribe(client, f"{push_service.url}/push/sara-phone", browser.keys)
    assert answer.status_code == 201 and answer.get_json() == {"subscribed": True}
    assert in_db(app, lambda s: s.get(Member, member.id).consent_push) is True

    row_id = notify(app, member.id)
    run_worker()

    assert len(push_service.requests) == 1
    got = push_service.requests[0]
    assert (got.method, got.path) == ("POST", "/push/sara-phone")
    assert got.headers["content-encoding"] == "aes128gcm"
    assert (got.headers["ttl"], got.headers["urgency"], got.headers["topic"]) == ("86400", "high", f"outbox-{row_id}")
    sent = browser.read(got.body)
    from webapp.extensions import db

    with app.app_context():
        outbox_row, m = db.session.get(OutboxMessage, row_id), db.session.get(Member, member.id)
        expected = render(outbox_row, m, app.config, template_for(db.session, "reward_redeemed", "en"),
                          to=str(m.id), tracking=load_messaging_settings(db.session))
    assert sent == {"title": expected.subject, "body": expected.text, "url": expected.url,
                    "tag": f"outbox-{row_id}", "lang": "en"}
    assert sent["title"] and "Sara" in sent["body"] and sent["url"].startswith(app.config["VAFA_PUBLIC_URL"])
    # a tap goes through the click tracker to the message's page
    tap = client.get(sent["url"].removeprefix(app.config["VAFA_PUBLIC_URL"]))
    assert (tap.status_code, tap.location) == (302, f"{app.config['VAFA_PUBLIC_URL']}/me/inbox")

    claims = verify_vapid(got.headers["authorization"],
                          vapid.application_server_key(app.config["VAFA_VAPID_PRIVATE_KEY"]))
    assert claims["aud"] == push_service.url  # the push service's origin
    assert claims["sub"] == app.config["VAFA_VAPID_SUBJECT"]
    assert 0 < claims["exp"] - datetime.now(UTC).timestamp() <= 24 * 3600

    delivered = row(app, row_id)
    assert (delivered.status, delivered.provider_id) == ("sent", f"1/1 {push_service.url}/messages/m1")
    assert in_db(app, lambda s: s.scalar(select(PushSubscription.last_success_at))) is not None


def test_a_browser_the_push_service_calls_gone_is_forgotten_and_the_last_one_refuses(
        app, make_member, run_worker, push_service):
    member, client = signed_in(app, make_member)
    phone, laptop = Browser(), Browser()
    assert subscribe(client, f"{push_service.url}/push/phone", phone.keys).status_code == 201
    assert subscribe(client, f"{push_service.url}/push/laptop", laptop.keys).status_code == 201
    push_service.respond = lambda got: Answer(410) if got.path == "/push/phone" else Answer(201)

    first = notify(app, member.id, key="first")
    run_worker()
    assert (row(app, first).status, row(app, first).provider_id) == ("sent", "1/2")
    assert endpoints(app, member.id) == [f"{push_service.url}/push/laptop"]
    assert laptop.read(push_service.requests[-1].body)["tag"] == f"outbox-{first}"

    push_service.respond = lambda got: Answer(404)
    second = notify(app, member.id, key="second")
    run_worker()
    failed = row(app, second)
    assert (failed.status, failed.reason, failed.error) == ("failed", "refused", "no_subscription")
    assert endpoints(app, member.id) == []

    third = notify(app, member.id, key="third")  # consent stays, but no browser is left
    requests_before = len(push_service.requests)
    run_worker()
    assert (row(app, third).status, row(app, third).error) == ("failed", "no_subscription")
    assert len(push_service.requests) == requests_before


def test_a_push_service_that_says_429_is_asked_again_after_its_retry_after(
        app, make_member, run_worker, push_service):
    from webapp.extensions import db
    from webapp.jobs.messages import wake

    member, client = signed_in(app, make_member)
    browser = Browser()
    assert subscribe(client, f"{push_service.url}/push/busy", browser.keys).status_code == 201
    push_service.script.append(Answer(429, headers={"Retry-After": "120"}))

    row_id = notify(app, member.id)
    before = datetime.now(UTC)
    run_worker()
    waiting = row(app, row_id)
    assert (waiting.status, waiting.reason, waiting.error) == ("pending", "retrying", "429")
    assert timedelta(seconds=115) <= waiting.next_attempt_at - before <= timedelta(seconds=125)
    assert endpoints(app, member.id) == [f"{push_service.url}/push/busy"]  # a busy service loses no browser

    with app.app_context():  # two minutes later
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                           .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
        wake()
    run_worker()
    assert [r.path for r in push_service.requests] == ["/push/busy", "/push/busy"]
    assert (row(app, row_id).status, row(app, row_id).attempts) == ("sent", 2)
    assert browser.read(push_service.requests[1].body)["tag"] == f"outbox-{row_id}"


def _outgoing(member_id: int, *, category: str = "notice", text: str = "Hello") -> Outgoing:
    return Outgoing(id=7, channel="push", kind="tier_upgrade", category=category, member_id=member_id,
                    to=str(member_id), locale="fa", subject="Gold", text=text, url="https://club.test/me/tier")


def _keep(session, member, browser: Browser, endpoint: str) -> None:
    session.add(PushSubscription(member_id=member.id, endpoint=endpoint, p256dh=browser.keys["p256dh"],
                                 auth=browser.keys["auth"], created_at=datetime.now(UTC)))
    session.flush()


@pytest.mark.parametrize(("answer", "after"), [
    (Answer(503), None),
    (Answer(500, body="oops"), None),
    (Answer(429, headers={"Retry-After": "30"}), 30.0),
])
def test_5xx_and_429_are_retried_and_keep_the_browser(app, session, http_recorder, answer, after):
    from tests import factories

    member = factories.member(session)
    browser = Browser()
    _keep(session, member, browser, f"{http_recorder.url}/p")
    http_recorder.script.append(answer)
    sender = WebPushSender(app.config, session)
    with pytest.raises(Retry) as retried:
        sender.send(_outgoing(member.id))
    assert retried.value.after == after
    assert retried.value.reason.startswith(str(answer.status))
    assert session.scalar(select(PushSubscription.endpoint)) == f"{http_recorder.url}/p"
    assert http_recorder.requests[0].headers["urgency"] == "normal"  # a notice is not urgent


def test_a_push_service_that_is_down_or_hangs_is_retried_quickly(app, session, http_recorder):
    from tests import factories
    from webapp.services.messages.channels import webpush

    member = factories.member(session)
    _keep(session, member, Browser(), "http://127.0.0.1:9/nobody-listens")
    sender = WebPushSender(app.config, session)
    with pytest.raises(Retry, match="ConnectionError"):
        sender.send(_outgoing(member.id))
    session.execute(update(PushSubscription).values(endpoint=f"{http_recorder.url}/slow"))
    http_recorder.script.append(Answer(201, delay=1.5))
    old, webpush.TIMEOUT = webpush.TIMEOUT, (1, 0.5)
    try:
        with pytest.raises(Retry, match="Timeout"):
            sender.send(_outgoing(member.id))
    finally:
        webpush.TIMEOUT = old


def test_other_4xx_refuse_the_message_but_keep_the_browser(app, session, http_recorder):
    from tests import factories

    member = factories.member(session)
    _keep(session, member, Browser(), f"{http_recorder.url}/p")
    http_recorder.script.append(Answer(403, body="bad vapid"))
    with pytest.raises(Refused, match="403 bad vapid"):
        WebPushSender(app.config, session).send(_outgoing(member.id, category="essential"))
    assert http_recorder.requests[0].headers["urgency"] == "high"
    assert session.scalar(select(PushSubscription.id)) is not None


def test_a_long_text_is_cut_to_what_push_services_take():
    long = _outgoing(1, text="پیام " * 2000)
    data = payload(long)
    assert len(data) <= MAX_PAYLOAD
    sent = json.loads(data)
    assert sent["body"].endswith("…") and sent["title"] == "Gold" and sent["tag"] == "outbox-7"
    assert json.loads(payload(_outgoing(1, text="short")))["body"] == "short"


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after("120") == 120.0
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 290 <= retry_after(later) <= 300
    assert retry_after("soon") is None and retry_after(None) is None


BAD = {
    "http endpoint": ("http://push.example.com/x", None, "invalid_endpoint"),
    "no scheme": ("push.example.com/x", None, "invalid_endpoint"),
    "private address": ("https://10.0.0.5/x", None, "invalid_endpoint"),
    "loopback over https": ("https://127.0.0.1/x", None, "invalid_endpoint"),
    "too long": ("https://push.example.com/" + "x" * 1100, None, "invalid_endpoint"),
    "short p256dh": ("https://push.example.com/x", {"p256dh": b64url(b"\x04" + b"1" * 31)}, "invalid_keys"),
    "p256dh off the curve": ("https://push.example.com/x", {"p256dh": b64url(b"\x04" + b"\x01" * 64)},
                             "invalid_keys"),
    "p256dh not base64url": ("https://push.example.com/x", {"p256dh": "not base64!"}, "invalid_keys"),
    "auth of 15 bytes": ("https://push.example.com/x", {"auth": b64url(os.urandom(15))}, "invalid_keys"),
    "auth missing": ("https://push.example.com/x", {"auth": None}, "invalid_keys"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_subscription_with_a_bad_endpoint_or_keys_is_refused_with_a_json_error(app, make_member, case):
    endpoint, key_changes, code = BAD[case]
    member, client = signed_in(app, make_member)
    keys = {**Browser().keys, **(key_changes or {})}
    answer = subscribe(client, endpoint, keys)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == code and answer.get_json()["error"]["message"]
    assert endpoints(app, member.id) == []
    assert in_db(app, lambda s: s.get(Member, member.id).consent_push) is False


def test_a_body_that_is_not_a_subscription_is_refused(app, make_member):
    _member, client = signed_in(app, make_member)
    token = csrf_token(client, "/me/settings")
    for body in ({"data": "not json", "content_type": "application/json"}, {"json": ["a", "list"]},
                 {"json": {"endpoint": "https://push.example.com/x"}}):
        answer = client.post("/me/push/subscribe", headers={"X-CSRFToken": token}, **body)
        assert answer.status_code == 400, body
        assert answer.get_json()["error"]["code"] in ("invalid_subscription", "invalid_keys")


def test_http_endpoints_need_the_flag_and_then_only_on_loopback(app, make_member):
    _member, client = signed_in(app, make_member)
    keys = Browser().keys
    assert subscribe(client, "http://127.0.0.1:8999/x", keys).status_code == 400
    app.config["VAFA_PUSH_ALLOW_HTTP"] = True
    assert subscribe(client, "http://push.example.com/x", keys).status_code == 400
    assert subscribe(client, "http://127.0.0.1:8999/x", keys).status_code == 201


def test_subscribing_needs_a_signed_in_member_and_the_csrf_header(app, make_member):
    keys = Browser().keys
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/login")
    answer = anonymous.post("/me/push/subscribe", json={"endpoint": "https://push.example.com/a", "keys": keys},
                            headers={"X-CSRFToken": token})
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"
    member, client = signed_in(app, make_member)
    answer = client.post("/me/push/subscribe", json={"endpoint": "https://push.example.com/a", "keys": keys})
    assert answer.status_code == 400  # no X-CSRFToken
    assert endpoints(app, member.id) == []


def test_a_member_only_unsubscribes_their_own_browser(app, make_member):
    sara, sara_client = signed_in(app, make_member)
    omid, omid_client = signed_in(app, make_member)
    endpoint = "https://push.example.com/sara-phone"
    assert subscribe(sara_client, endpoint, Browser().keys).status_code == 201

    answer = unsubscribe(omid_client, endpoint)
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    assert endpoints(app, sara.id) == [endpoint]

    assert unsubscribe(sara_client, endpoint).get_json() == {"subscribed": False}
    assert endpoints(app, sara.id) == []
    assert in_db(app, lambda s: s.get(Member, sara.id).consent_push) is False  # no browser left
    assert unsubscribe(sara_client, endpoint).status_code == 404


def test_subscribing_again_updates_the_keys_and_a_shared_browser_moves_to_who_subscribed_last(app, make_member):
    sara, sara_client = signed_in(app, make_member)
    omid, omid_client = signed_in(app, make_member)
    endpoint = "https://push.example.com/family-tablet"
    first, second = Browser(), Browser()
    assert subscribe(sara_client, endpoint, first.keys).status_code == 201
    assert subscribe(sara_client, endpoint, second.keys).status_code == 201
    kept = in_db(app, lambda s: s.scalars(select(PushSubscription)).all())
    assert [(k.member_id, k.p256dh, k.auth) for k in kept] == [(sara.id, second.keys["p256dh"], second.keys["auth"])]
    assert kept[0].user_agent  # the browser's own description, for the member's list of devices

    assert subscribe(omid_client, endpoint, second.keys).status_code == 201
    assert endpoints(app, sara.id) == [] and endpoints(app, omid.id) == [endpoint]


def test_a_member_keeps_their_ten_newest_browsers(app, make_member):
    member, client = signed_in(app, make_member)
    keys = Browser().keys
    for n in range(12):
        assert subscribe(client, f"https://push.example.com/device-{n}", keys).status_code == 201
    kept = endpoints(app, member.id)
    assert len(kept) == 10 and "https://push.example.com/device-0" not in kept
    assert "https://push.example.com/device-11" in kept


def test_the_service_worker_is_served_at_the_root_as_javascript_and_never_stale(client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.mimetype == "text/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"
    source = answer.get_data(as_text=True)
    assert 'addEventListener("push"' in source and 'addEventListener("notificationclick"' in source
    assert "showNotification" in source and "openWindow" in source


def test_the_settings_page_offers_notifications_with_the_club_key(app, make_member):
    _member, client = signed_in(app, make_member)
    html = client.get("/me/settings").get_data(as_text=True)
    assert 'id="push-control"' in html and 'id="push-toggle"' in html
    assert "/static/js/push.js" in html and 'data-worker="/sw.js"' in html
    key = vapid.application_server_key(app.config["VAFA_VAPID_PRIVATE_KEY"])
    assert f'data-key="{key}"' in html
    point = unb64url(key)
    assert len(point) == 65 and point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def test_the_settings_page_recognises_the_member_s_own_browsers_by_hash(app, make_member):
    import hashlib

    member, client = signed_in(app, make_member)
    endpoint = "https://push.example.com/mine"
    subscribe(client, endpoint, Browser().keys)
    html = client.get("/me/settings").get_data(as_text=True)
    assert f'data-mine="{hashlib.sha256(endpoint.encode()).hexdigest()}"' in html
    assert endpoint not in html

    def unsubscribed_by_link(session):
        session.get(Member, member.id).consent_push = False
        session.commit()

    in_db(app, unsubscribed_by_link)
    assert 'data-mine=""' in client.get("/me/settings").get_data(as_text=True)  # shows "off": turning on asks again


def _key_in(folder: str) -> str:
    from pathlib import Path

    from webapp.config import _vapid_private_key

    return _vapid_private_key(Path(folder))


def test_the_vapid_key_is_generated_once_even_by_processes_starting_together(tmp_path, monkeypatch):
    monkeypatch.delenv("VAFA_VAPID_PRIVATE_KEY", raising=False)
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(_key_in, [str(tmp_path)] * 8))
    assert len(set(keys)) == 1
    assert (tmp_path / "vapid_private_key.pem").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["vapid_private_key.pem"]  # no temporary left
    assert _key_in(str(tmp_path)) == keys[0]
    assert isinstance(vapid.private_key(keys[0]).curve, ec.SECP256R1)


def test_a_vapid_key_from_the_environment_wins_in_the_format_web_push_tools_print(tmp_path, monkeypatch):
    key = ec.generate_private_key(ec.SECP256R1())
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    monkeypatch.setenv("VAFA_VAPID_PRIVATE_KEY", raw)
    assert _key_in(str(tmp_path)) == raw
    assert not (tmp_path / "vapid_private_key.pem").exists()
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert vapid.application_server_key(raw) == b64url(public)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    assert vapid.application_server_key(pem.replace("\n", "\\n")) == b64url(public)  # one env line
    with pytest.raises(ValueError):
        vapid.private_key("not-a-key")
