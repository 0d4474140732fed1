"""The outbox: rows per channel written with their cause, once per key; a real
RQ worker delivers them through the configured sender, applying consents, quiet
hours, the daily cap, retries with backoff and permanent refusals."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from webapp.models import InboxMessage, OutboxMessage
from webapp.services import messages
from webapp.services.messages import delivery, policy
from webapp.services.messages.channels import Refused, Retry, sender
from webapp.services.messages.samples import sample_params

SENT: list = []
SCRIPT: list = []  # what the test sender does next: None sends, an exception is raised


class ScriptedSender:
    """A real sender registered through the channel registry, standing in for a
    provider: it records what it was given and fails as the test scripts."""

    def send(self, message):
        outcome = SCRIPT.pop(0) if SCRIPT else None
        if isinstance(outcome, Exception):
            raise outcome
        SENT.append(message)
        return f"p-{message.id}"

    def close(self):
        pass


for _channel in ("email", "sms", "push"):
    sender(_channel, "scripted")(lambda _config: ScriptedSender())


@pytest.fixture
def scripted(app):
    SENT.clear()
    SCRIPT.clear()
    app.config.update(VAFA_MAIL_SENDER="scripted", VAFA_SMS_SENDER="scripted", VAFA_PUSH_SENDER="scripted")
    return SENT


def _rows(session, **where):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(session.scalars(query))


def test_a_cause_writes_one_row_per_channel_once_and_the_inbox_at_once(session, now):
    member = factories.member(session)
    args = {"member_id": member.id, "kind": "raffle_won", "params": {"name": "x"}, "key": "raffle:1:won:1", "now": now}
    assert messages.notify(session, **args) == 1
    assert messages.notify(session, **args) == 0  # a replayed cause
    rows = _rows(session, member_id=member.id)
    assert [(r.channel, r.status, r.category) for r in rows] == [
        ("inbox", "sent", "notice"), ("email", "pending", "notice"),
        ("sms", "pending", "notice"), ("push", "pending", "notice")]
    assert session.scalar(select(InboxMessage.kind).where(InboxMessage.member_id == member.id)) == "raffle_won"


def test_notify_from_writes_every_selected_member_in_one_statement_per_channel(session, now):
    members = [factories.member(session) for _ in range(3)]
    from sqlalchemy import literal

    from webapp.models import Member
    source = select(Member.id, literal("bc:1:") + Member.referral_code).where(
        Member.id.in_([m.id for m in members[:2]]))
    assert messages.notify_from(session, source, kind="broadcast", params={"subject": "s", "body": "b"},
                                now=now, channels=("inbox", "sms"), broadcast_id=7) == 2
    assert messages.notify_from(session, source, kind="broadcast", params={}, now=now,
                                channels=("inbox", "sms"), broadcast_id=7) == 0
    assert len(_rows(session, broadcast_id=7, channel="sms")) == 2
    assert session.query(InboxMessage).count() == 2


def test_a_real_worker_delivers_through_the_configured_sender(app, client, make_member, run_worker, scripted):
    from webapp.extensions import db

    member = make_member(mobile="09121234567", email="m@example.com")
    with app.app_context():
        m = db.session.get(type(member), member.id)
        m.consent_email = m.consent_sms = True
        messages.notify(db.session, member_id=m.id, kind="reward_redeemed", params=sample_params("reward_redeemed"),
                        key="redeem:1", now=datetime.now(UTC), channels=("email", "sms"))
        db.session.commit()  # wakes a worker
    run_worker()
    assert sorted(m.channel for m in scripted) == ["email", "sms"]
    assert {m.to for m in scripted} == {"m@example.com", "+989121234567"}
    with app.app_context():
        rows = _rows(db.session, member_id=member.id)
        assert {(r.status, r.provider_id is not None, r.attempts) for r in rows} == {("sent", True, 1)}


def _claimed(session, member, *, kind="reward_redeemed", channel="email", now, address=None):
    messages.notify(session, member_id=member.id, kind=kind, params=sample_params(kind), key=f"k:{kind}",
                    now=now, channels=(channel,), address=address)
    ids = delivery.claim(session, now=now)
    return delivery.claimed_rows(session, ids)[0][0]


DEFAULT_SETTINGS = policy.MessagingSettings()


def _deliver(session, row, member, now, *, settings=DEFAULT_SETTINGS, tz="Asia/Tehran"):
    return delivery.deliver_one(session, row, member, sender=ScriptedSender(), config={
        "SECRET_KEY": "k", "VAFA_PUBLIC_URL": "https://club.test"}, settings=settings, now=now, tz=tz)


def test_without_consent_a_notice_is_suppressed_and_says_why_but_a_receipt_goes(session, now, scripted):
    member = factories.member(session)
    row = _claimed(session, member, kind="tier_upgrade", now=now)
    assert _deliver(session, row, member, now) == "suppressed"
    assert (row.reason, scripted) == ("no_consent", [])
    receipt = _claimed(session, member, kind="reward_redeemed", now=now)
    receipt.params = {"reward": "Tea", "coupon": "TEA-1", "points": 50}
    assert _deliver(session, receipt, member, now) == "sent"


def test_an_essential_message_needs_no_consent_and_goes_to_the_address_given(session, now, scripted):
    member = factories.member(session)
    row = _claimed(session, member, kind="sign_in_code", channel="sms", now=now, address="+989120000000")
    row.params = {"code": "123456", "minutes": 10}
    assert _deliver(session, row, member, now) == "sent"
    assert scripted[0].to == "+989120000000" and "123456" in scripted[0].text
    assert row.params["code"] == ""  # the code does not outlive its delivery


def test_sms_waits_out_quiet_hours_but_an_essential_code_does_not(session, scripted):
    member = factories.member(session, mobile="09121234567")
    member.consent_sms = True
    night = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 23:30 in Tehran
    row = _claimed(session, member, kind="points_expiring", channel="sms", now=night)
    assert _deliver(session, row, member, night) == "pending"
    assert row.next_attempt_at == datetime(2026, 11, 26, 4, 30, tzinfo=UTC)  # 08:00 Tehran
    assert (row.reason, row.attempts, scripted) == ("quiet_hours", 0, [])
    code = _claimed(session, member, kind="sign_in_code", channel="sms", now=night)
    code.params = {"code": "654321", "minutes": 10}
    assert _deliver(session, code, member, night) == "sent"


def test_the_daily_cap_counts_marketing_causes_not_channels(session, now, scripted):
    member = factories.member(session, email="cap@example.com", mobile="09121112233")
    member.consent_email = member.consent_sms = True
    settings = policy.MessagingSettings(daily_marketing_cap=1, quiet_start="00:00", quiet_end="00:00")
    first = _claimed(session, member, kind="win_back", channel="email", now=now)
    assert _deliver(session, first, member, now, settings=settings) == "sent"
    same_cause = _claimed(session, member, kind="win_back", channel="sms", now=now)
    assert _deliver(session, same_cause, member, now, settings=settings) == "sent"
    other = _claimed(session, member, kind="birthday", channel="email", now=now)
    assert _deliver(session, other, member, now, settings=settings) == "suppressed"
    assert other.reason == "daily_cap"
    receipt = _claimed(session, member, kind="reward_redeemed", channel="email", now=now)
    assert _deliver(session, receipt, member, now, settings=settings) == "sent"  # never capped


def test_retries_back_off_then_give_up_and_a_refusal_fails_at_once(session, now, scripted):
    member = factories.member(session)
    member.consent_email = True
    row = _claimed(session, member, now=now)
    SCRIPT.extend([Retry("503"), Retry("429", after=120)])
    assert _deliver(session, row, member, now) == "pending"
    assert timedelta(seconds=27) <= row.next_attempt_at - now <= timedelta(seconds=33)
    assert delivery.claim(session, now=now) == []  # not due yet
    later = now + timedelta(minutes=1)
    assert delivery.claim(session, now=later) == [row.id]
    assert _deliver(session, row, member, later) == "pending"
    assert row.next_attempt_at == later + timedelta(seconds=120)  # the provider's Retry-After
    row.attempts = delivery.MAX_ATTEMPTS
    row.status = "sending"
    SCRIPT.append(Retry("503"))
    assert _deliver(session, row, member, later) == "failed"
    assert row.reason == "gave_up"
    refused = _claimed(session, member, kind="welcome", now=now)
    SCRIPT.append(Refused("550 no such mailbox"))
    assert _deliver(session, refused, member, now) == "failed"
    assert (refused.reason, refused.error) == ("refused", "550 no such mailbox")


def test_a_row_whose_worker_died_is_claimed_again_after_its_lease(session, now):
    member = factories.member(session)
    messages.notify(session, member_id=member.id, kind="welcome", params={}, key="w", now=now,
                    channels=("email",))
    first = delivery.claim(session, now=now)
    assert delivery.claim(session, now=now) == []  # held by the (dead) first worker
    assert delivery.claim(session, now=now + delivery.LEASE + timedelta(seconds=1)) == first


@pytest.mark.parametrize(("clock", "until"), [
    (time(23, 30), datetime(2026, 11, 26, 8, 0)),
    (time(3, 0), datetime(2026, 11, 25, 8, 0)),
    (time(12, 0), None),
    (time(8, 0), None),
])
def test_quiet_hours_wrap_midnight_in_the_club_zone(clock, until):
    from zoneinfo import ZoneInfo
    zone = ZoneInfo("Asia/Tehran")
    now = datetime.combine(datetime(2026, 11, 25).date(), clock, tzinfo=zone)
    got = policy.quiet_until(now, "Asia/Tehran", time(22, 0), time(8, 0))
    assert got == (until.replace(tzinfo=zone) if until else None)


def test_e_mail_reaches_a_real_smtp_server_and_a_5xx_recipient_is_refused(app, make_member, run_worker,
                                                                        smtp_server):
    from webapp.extensions import db

    app.config.update(smtp_server.config())
    member = make_member(email="reader@example.com", locale="en")
    with app.app_context():
        db.session.get(type(member), member.id).consent_email = True
        messages.notify(db.session, member_id=member.id, kind="welcome", params={}, key="welcome:1",
                        now=datetime.now(UTC), channels=("email",))
        db.session.commit()
    run_worker()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "reader@example.com"
    assert "outbox-" in mail["Message-ID"]
    assert "Test Member" in mail.get_body(("plain",)).get_content()
    smtp_server.refuse_rcpt = "550 no such user"
    with app.app_context():
        messages.notify(db.session, member_id=member.id, kind="welcome", params={}, key="welcome:2",
                        now=datetime.now(UTC), channels=("email",))
        db.session.commit()
    run_worker()
    with app.app_context():
        row = _rows(db.session, key="welcome:2")[0]
        assert (row.status, row.reason) == ("failed", "refused")
        assert row.error.startswith("550")


def test_claimed_rows_not_worked_on_are_handed_back_without_an_attempt(session, now):
    member = factories.member(session)
    for key in ("a", "b"):
        messages.notify(session, member_id=member.id, kind="welcome", params={}, key=key, now=now,
                        channels=("email",))
    ids = delivery.claim(session, now=now)
    done = session.get(OutboxMessage, ids[0])
    done.status = "sent"
    assert delivery.release(session, ids) == 1  # the sent one stays sent
    assert delivery.claim(session, now=now) == ids[1:]
    assert session.get(OutboxMessage, ids[1]).attempts == 1
