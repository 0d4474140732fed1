"""SMS: segments counted as phones count them, and the HTTP senders (the generic
contract and Kavenegar) driven by a real RQ worker against a real local HTTP
server that answers as each test scripts it; delivery reports come back through
/hooks/sms/<sender>/status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from tests.helpers.http_recorder import Answer
from webapp.models import OutboxMessage
from webapp.services import messages
from webapp.services.messages.channels.sms import count_segments, kavenegar_receptor, retry_after

PERSIAN = "سلام"  # 4 UTF-16 units


@pytest.mark.parametrize(("text", "encoding", "units", "count"), [
    ("", "gsm7", 0, 1),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("€" * 80, "gsm7", 160, 1),  # extension characters count two
    ("a" * 159 + "[", "gsm7", 161, 2),
    ("{}[]^~\\|€", "gsm7", 18, 1),
    ("@£$¥èéùìòÇ\nØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤§¿äöñüà", "gsm7", 39, 1),
    ("a" * 152 + "€" + "a" * 8, "gsm7", 162, 2),  # the escape pair moves whole into part two
    ("a" * 152 + "€" + "a" * 152, "gsm7", 306, 3),  # …so 306 septets can need three parts
    (PERSIAN * 17 + "ab", "ucs2", 70, 1),
    (PERSIAN * 17 + "abc", "ucs2", 71, 2),
    ("س" * 134, "ucs2", 134, 2),
    ("س" * 135, "ucs2", 135, 3),
    ("😀" * 35, "ucs2", 70, 1),  # surrogate pairs: two units each
    ("😀" * 36, "ucs2", 72, 2),
    ("a" * 66 + "😀" + "a" * 4, "ucs2", 72, 2),  # a pair is not split across parts
    ("ç", "ucs2", 1, 1),  # ç (lower case) is not in the GSM table; Ç is
])
def test_segments_follow_gsm7_and_ucs2_limits(text, encoding, units, count):
    got = count_segments(text)
    assert (got.encoding, got.units, got.count) == (encoding, units, count)


def test_a_pair_at_a_part_boundary_takes_the_next_part():
    # 67 units per UCS-2 part: 66 singles + a pair would be 68, so the pair starts part two
    assert count_segments("a" * 66 + "😀" + "a" * 66).count == 3  # 66 | 2+65 | 1


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert retry_after("120") == 120
    assert retry_after("Thu, 03 Dec 2026 12:01:30 GMT", now) == 90
    assert retry_after("999999") == 3600  # capped at an hour
    assert retry_after("soon") is None and retry_after(None) is None


def test_kavenegar_numbers_are_written_as_its_examples_write_them():
    assert kavenegar_receptor("+989121234567") == "09121234567"
    assert kavenegar_receptor("+447700900123") == "00447700900123"


@pytest.fixture
def sms_to(app, http_recorder):
    """The app's SMS sender pointed at the local recorder; `sms_to(name)`."""

    def configure(name="http", **extra):
        app.config.update(VAFA_SMS_SENDER=name, VAFA_SMS_URL=http_recorder.url, VAFA_SMS_TOKEN="sms-token",
                          VAFA_SMS_TIMEOUT=0.5, **extra)
        return http_recorder

    return configure


def _queue_sms(app, member_id, key="receipt:1", kind="reward_redeemed", params=None):
    from webapp.extensions import db

    with app.app_context():
        messages.notify(db.session, member_id=member_id, kind=kind, params=params or {"reward": "Tea", "coupon": "TEA-1", "points": 50},
                        key=key, now=datetime.now(UTC), channels=("sms",))
        db.session.commit()  # wakes a worker


def _row(app, key):
    from webapp.extensions import db

    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        db.session.expunge(row)
        return row


def _due_again(app, key):
    """Skip the backoff wait: make the row due now and wake a worker."""
    from webapp.extensions import db
    from webapp.jobs.messages import wake

    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        wake()


@pytest.fixture
def texter(make_member):
    member = make_member(mobile="09121234567", locale="en")
    from webapp.extensions import db

    def consent(app):
        with app.app_context():
            db.session.get(type(member), member.id).consent_sms = True
            db.session.commit()
        return member

    return consent


def test_the_http_sender_posts_the_contract_and_keeps_the_provider_id(app, texter, run_worker, sms_to):
    member = texter(app)
    recorder = sms_to("http")
    recorder.default = Answer(202, {"id": "prov-77"})
    _queue_sms(app, member.id)
    run_worker()
    [got] = recorder.requests
    row = _row(app, "receipt:1")
    assert (got.method, got.headers["authorization"], got.headers["content-type"]) == (
        "POST", "Bearer sms-token", "application/json")
    body = got.json()
    assert body["to"] == "+989121234567" and body["id"] == str(row.id) and "Test Member" in body["text"]
    assert (row.status, row.provider_id, row.segments, row.attempts) == ("sent", "prov-77", 1, 1)


def test_a_429_waits_as_long_as_retry_after_says_then_sends(app, texter, run_worker, sms_to):
    member = texter(app)
    recorder = sms_to("http")
    recorder.script = [Answer(429, {"error": "slow down"}, {"Retry-After": "0"})]
    recorder.default = Answer(200, "ok")  # a 2xx without JSON is sent too
    _queue_sms(app, member.id)
    run_worker()  # Retry-After: 0 makes it due again within the same job
    assert len(recorder.requests) == 2
    row = _row(app, "receipt:1")
    assert (row.status, row.attempts, row.provider_id) == ("sent", 2, None)


def test_a_5xx_is_retried_with_backoff_and_a_400_is_refused(app, texter, run_worker, sms_to):
    member = texter(app)
    recorder = sms_to("http")
    recorder.script = [Answer(500, "oops"), Answer(400, {"error": "bad number"})]
    _queue_sms(app, member.id, key="k:500")
    run_worker()
    row = _row(app, "k:500")
    assert (row.status, row.reason, row.error) == ("pending", "retrying", "500 oops")
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)  # backed off, not hammered
    _due_again(app, "k:500")
    run_worker()
    row = _row(app, "k:500")
    assert (row.status, row.reason, row.attempts) == ("failed", "refused", 2)
    assert row.error.startswith("400") and "bad number" in row.error


def test_a_provider_that_hangs_hits_the_timeout_and_the_message_is_retried(app, texter, run_worker, sms_to):
    member = texter(app)
    recorder = sms_to("http")
    recorder.script = [Answer(200, {"id": "late"}, delay=2.0)]
    recorder.default = Answer(200, {"id": "second"})
    _queue_sms(app, member.id, key="k:slow")
    started = datetime.now(UTC)
    run_worker()
    assert datetime.now(UTC) - started < timedelta(seconds=1.9)  # the worker did not wait it out
    row = _row(app, "k:slow")
    assert (row.status, row.reason) == ("pending", "retrying") and "no answer" in row.error
    _due_again(app, "k:slow")
    run_worker()
    assert _row(app, "k:slow").provider_id == "second"


def test_a_provider_that_cannot_be_reached_is_retried(app, texter, run_worker, sms_to):
    member = texter(app)
    sms_to("http")
    app.config["VAFA_SMS_URL"] = "http://127.0.0.1:9/"  # discard port: nothing listens
    _queue_sms(app, member.id, key="k:down")
    run_worker()
    row = _row(app, "k:down")
    assert (row.status, row.reason) == ("pending", "retrying") and "cannot reach" in row.error


def test_persian_text_is_counted_in_ucs2_segments(app, texter, run_worker, sms_to):
    member = texter(app)
    from webapp.extensions import db

    with app.app_context():
        db.session.get(type(member), member.id).locale = "fa"
        db.session.commit()
    recorder = sms_to("http")
    _queue_sms(app, member.id, kind="sign_in_code", params={"code": "123456", "minutes": 10}, key="k:fa")
    run_worker()
    text = recorder.requests[0].json()["text"]
    row = _row(app, "k:fa")
    assert count_segments(text).encoding == "ucs2"
    assert "123456" in text and row.segments == count_segments(text).count


def test_kavenegar_gets_its_form_with_the_key_in_the_path_and_its_message_id_is_kept(
        app, texter, run_worker, sms_to):
    member = texter(app)
    recorder = sms_to("kavenegar", VAFA_SMS_FROM="10004346")
    recorder.default = Answer(200, {"return": {"status": 200, "message": "تایید شد"},
                                    "entries": [{"messageid": 8792343, "status": 1}]})
    _queue_sms(app, member.id, key="k:kn")
    run_worker()
    [got] = recorder.requests
    assert got.path == "/sms-token/sms/send.json"
    form = {k: v[0] for k, v in parse_qs(got.body.decode()).items()}
    row = _row(app, "k:kn")
    assert (form["receptor"], form["sender"], form["localid"]) == ("09121234567", "10004346", str(row.id))
    assert "Test Member" in form["message"]
    assert (row.status, row.provider_id) == ("sent", "8792343")


@pytest.mark.parametrize(("status", "outcome", "reason"), [
    (418, "pending", "retrying"),  # the club's credit ran out: it may be topped up
    (500, "pending", "retrying"),
    (411, "failed", "refused"),  # a receptor it will never take
])
def test_kavenegar_errors_are_retried_or_refused_by_their_return_status(
        app, texter, run_worker, sms_to, status, outcome, reason):
    member = texter(app)
    recorder = sms_to("kavenegar")
    recorder.default = Answer(status, {"return": {"status": status, "message": "x"}, "entries": None})
    _queue_sms(app, member.id, key="k:kn-err")
    run_worker()
    row = _row(app, "k:kn-err")
    assert (row.status, row.reason) == (outcome, reason)
    assert row.error.startswith(str(status)) and "sms-token" not in row.error  # the key stays out


def test_kavenegar_needs_its_api_key(app):
    from webapp.services.messages.channels import open_sender

    with pytest.raises(ValueError, match="VAFA_SMS_TOKEN"):
        open_sender("sms", {"VAFA_SMS_SENDER": "kavenegar", "VAFA_SMS_TOKEN": ""})


def _sent_with_provider_id(app, texter, run_worker, sms_to, provider_id="prov-9"):
    member = texter(app)
    recorder = sms_to("http")
    recorder.default = Answer(200, {"id": provider_id})
    _queue_sms(app, member.id, key="k:report")
    run_worker()
    return _row(app, "k:report")


def test_a_delivery_report_marks_the_message_delivered(app, client, texter, run_worker, sms_to):
    _sent_with_provider_id(app, texter, run_worker, sms_to)
    response = client.post("/hooks/sms/http/status", json={"id": "prov-9", "status": "delivered"},
                           headers={"Authorization": "Bearer sms-token"})
    assert response.status_code == 200 and response.json["status"] == "delivered"
    row = _row(app, "k:report")
    assert row.status == "delivered" and row.delivered_at is not None
    late_failure = client.post("/hooks/sms/http/status", json={"id": "prov-9", "status": "failed"},
                               headers={"Authorization": "Bearer sms-token"})
    assert late_failure.status_code == 200 and _row(app, "k:report").status == "delivered"


def test_an_undelivered_report_fails_the_message_with_its_reason(app, client, texter, run_worker, sms_to):
    _sent_with_provider_id(app, texter, run_worker, sms_to)
    client.post("/hooks/sms/http/status", json={"id": "prov-9", "status": "failed"},
                headers={"Authorization": "Bearer sms-token"})
    row = _row(app, "k:report")
    assert (row.status, row.reason) == ("failed", "undelivered")


def test_delivery_reports_need_the_token_and_a_known_id(app, client, texter, run_worker, sms_to):
    _sent_with_provider_id(app, texter, run_worker, sms_to)
    url = "/hooks/sms/http/status"
    body = {"id": "prov-9", "status": "delivered"}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    unknown = client.post(url, json={"id": "nope", "status": "delivered"},
                          headers={"Authorization": "Bearer sms-token"})
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"
    other_sender = client.post("/hooks/sms/kavenegar/status", json=body,
                               headers={"Authorization": "Bearer sms-token"})
    assert other_sender.status_code == 404
    bad = client.post(url, json={"id": "prov-9", "status": "read"}, headers={"Authorization": "Bearer sms-token"})
    assert bad.status_code == 422
    assert _row(app, "k:report").status == "sent"


def test_delivery_reports_are_rate_limited(app, client):
    app.config.update(VAFA_SMS_SENDER="http", VAFA_SMS_TOKEN="sms-token", HOOK_RATE_LIMIT="2 per minute")
    codes = [client.post("/hooks/sms/http/status", json={"id": "x", "status": "delivered"},
                         headers={"Authorization": "Bearer sms-token"}).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    limited = client.post("/hooks/sms/http/status", json={}, headers={"Authorization": "Bearer sms-token"})
    assert limited.json["error"]["code"] == "rate_limited"  # machines get JSON, even when limited


@pytest.mark.parametrize("kind", ["sign_in_code", "password_reset_code"])
@pytest.mark.parametrize("locale", ["fa", "en"])
def test_a_code_costs_one_sms_in_either_language(kind, locale):
    from webapp.services.messages.render import DEFAULT_CLUB, fill
    from webapp.services.messages.texts import default_text

    text = fill(default_text(kind, locale).body, {"club": DEFAULT_CLUB[locale], "code": "123456", "minutes": 10})
    assert "123456" in text and count_segments(text).count == 1
