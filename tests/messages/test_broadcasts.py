"""Broadcasts, service and job: a draft is checked (an unknown variable is named),
sending freezes the audience and holds a random part out (disjoint from the
messaged, within tolerance), writes each messaged member's outbox rows once per
channel however often it runs, starts scheduled ones from the minute cron, and
can be cancelled before it starts. The report counts a constructed scenario."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.job import JobStatus
from sqlalchemy import func, select

from tests import factories
from webapp.jobs import get_queue
from webapp.jobs.broadcasts import send_broadcast, send_due_broadcasts
from webapp.models import (
    AuditLog,
    Broadcast,
    BroadcastMember,
    InboxMessage,
    OutboxMessage,
    Purchase,
)
from webapp.services.members import audit
from webapp.services.messages import broadcast_report, broadcast_send, broadcasts
from webapp.services.messages.broadcasts import BroadcastDraft


def draft(**changes) -> BroadcastDraft:
    values = {"name": "Yalda sale", "segment_id": None, "channels": ("inbox", "email"),
              "subject_fa": "حراج یلدا در {{ club }}", "subject_en": "Yalda sale at {{ club }}",
              "body_fa": "{{ name }} عزیز، حراج یلدا آغاز شد.", "body_en": "Dear {{ name }}, the sale is on.",
              "holdout_percent": 0, "attribution_days": 7, "scheduled_at": None}
    return BroadcastDraft(**{**values, **changes})


def create(session, now, **changes) -> Broadcast:
    broadcast = broadcasts.create_broadcast(session, draft(**changes), actor=audit.CLI, now=now)
    session.commit()
    return broadcast


def members(session, n: int, **kwargs) -> list[int]:
    ids = [factories.member(session, **kwargs).id for _ in range(n)]
    session.commit()
    return ids


def enqueue(app, func, *args):
    with app.app_context():
        return get_queue("default").enqueue(func, *args)


def outbox_count(session, broadcast_id, **where) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return session.scalar(query)


def test_a_draft_naming_an_unknown_variable_is_refused_with_the_variable_named(session, now):
    with pytest.raises(broadcasts.BroadcastInvalid) as refused:
        broadcasts.create_broadcast(session, draft(body_en="Hi {{ nmae }}", channels=()), actor=audit.CLI, now=now)
    assert refused.value.problems["body_en"] == "template_unknown_variable"
    assert refused.value.params["body_en"] == {"variable": "nmae"}
    assert refused.value.problems["channels"] == "broadcast_channels"
    with pytest.raises(broadcasts.BroadcastInvalid) as refused:
        broadcasts.create_broadcast(session, draft(holdout_percent=51, subject_fa="", body_fa="{% if %}"),
                                    actor=audit.CLI, now=now)
    assert set(refused.value.problems) == {"holdout_percent", "subject_fa", "body_fa"}
    assert refused.value.problems["body_fa"] == "template_syntax"


def test_the_preview_words_the_staff_texts_for_a_member_in_each_language(app, session, now):
    member = factories.member(session, display_name="Sara")
    broadcast = create(session, now)
    fa = broadcasts.preview(broadcast, member, app.config, "fa")
    en = broadcasts.preview(broadcast, member, app.config, "en")
    assert en.text.startswith("Dear Sara, the sale is on.\n")  # then the e-mail layout's footer
    assert en.subject.startswith("Yalda sale at ")
    assert fa.text.startswith("Sara عزیز، حراج یلدا آغاز شد.\n")
    assert fa.locale == "fa"


def test_sending_holds_out_a_random_fraction_disjoint_from_the_messaged(session, now):
    members(session, 200)
    broadcast = create(session, now, holdout_percent=25, channels=("inbox", "email", "sms"))
    broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
    sent = broadcast_send.begin_sending(session, broadcast.id, now=now)
    session.commit()
    assert sent is not None and sent.status == "sending"
    held = set(session.scalars(select(BroadcastMember.member_id).where(BroadcastMember.held_out)))
    messaged = set(session.scalars(select(OutboxMessage.member_id).where(
        OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.channel == "email")))
    assert len(held) == 50 and (sent.held_out, sent.targeted) == (50, 150)
    assert held.isdisjoint(messaged) and len(messaged) == 150
    assert outbox_count(session, broadcast.id, channel="sms") == 150
    inbox = set(session.scalars(select(InboxMessage.member_id).where(InboxMessage.kind == "broadcast")))
    assert inbox == messaged


def test_the_hold_out_is_drawn_at_random_each_time(session, now):
    members(session, 100)
    draws = []
    for _ in range(3):
        broadcast = create(session, now, holdout_percent=30, channels=("inbox",))
        broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
        broadcast_send.begin_sending(session, broadcast.id, now=now)
        session.commit()
        draws.append(frozenset(session.scalars(select(BroadcastMember.member_id).where(
            BroadcastMember.broadcast_id == broadcast.id, BroadcastMember.held_out))))
    assert all(len(d) == 30 for d in draws)
    assert len(set(draws)) > 1  # three equal draws of 30 from 100: about 1 in 10^50


def test_a_broadcast_sent_twice_writes_nothing_new(app, session, run_worker):
    members(session, 12)
    now = datetime.now(UTC)
    broadcast = create(session, now, holdout_percent=0)
    broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
    session.commit()
    first = enqueue(app, send_broadcast, broadcast.id)
    second = enqueue(app, send_broadcast, broadcast.id)
    run_worker()
    assert first.get_status() == second.get_status() == JobStatus.FINISHED
    session.rollback()
    assert outbox_count(session, broadcast.id) == 24
    # even past the status check, the rows are unique per (member, channel, cause)
    row = session.get(Broadcast, broadcast.id)
    assert broadcast_send.write_messages(session, row, now) == 0
    assert outbox_count(session, broadcast.id) == 24
    assert session.scalar(select(func.count()).select_from(InboxMessage)) == 12


def test_the_minute_cron_sends_a_scheduled_broadcast_when_due_and_marks_it_sent(app, session, run_worker):
    members(session, 4)
    now = datetime.now(UTC)
    later = create(session, now, scheduled_at=now + timedelta(hours=1), channels=("inbox",))
    due = create(session, now, scheduled_at=now + timedelta(minutes=1), channels=("inbox",))
    for b in (later, due):
        broadcasts.schedule_broadcast(session, b.id, actor=audit.CLI, now=now)
    session.commit()
    session.get(Broadcast, due.id).scheduled_at = now - timedelta(seconds=1)  # its time has come
    session.commit()
    cron = enqueue(app, send_due_broadcasts)
    run_worker()
    assert cron.return_value()["enqueued"] == [due.id]
    session.rollback()
    assert session.get(Broadcast, due.id).status == "sent"  # inbox only: delivered as written
    assert session.get(Broadcast, later.id).status == "scheduled"
    assert outbox_count(session, due.id) == 4 and outbox_count(session, later.id) == 0


def test_a_sending_broadcast_is_sent_once_its_rows_are_dealt_with(session, now):
    members(session, 3)
    broadcast = create(session, now, channels=("email",))
    broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
    broadcast_send.begin_sending(session, broadcast.id, now=now)
    session.commit()
    assert broadcast_send.finish_delivered(session, now) == 0
    session.execute(OutboxMessage.__table__.update().values(status="sent"))
    assert broadcast_send.finish_delivered(session, now) == 1
    session.commit()
    assert session.get(Broadcast, broadcast.id).status == "sent"


def test_a_cancelled_broadcast_is_never_sent(session, now):
    members(session, 3)
    broadcast = create(session, now, scheduled_at=now + timedelta(hours=2))
    broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now)
    broadcasts.cancel_broadcast(session, broadcast.id, actor=audit.CLI, now=now)
    session.commit()
    assert broadcast_send.begin_sending(session, broadcast.id, now=now + timedelta(hours=3)) is None
    assert outbox_count(session, broadcast.id) == 0
    with pytest.raises(broadcasts.BroadcastStateConflict):
        broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
    actions = set(session.scalars(select(AuditLog.action).where(AuditLog.object_type == "broadcast")))
    assert actions == {"broadcasts.create", "broadcasts.schedule", "broadcasts.cancel"}


def buy(session, member_id, when):
    session.add(Purchase(member_id=member_id, amount=1000, currency="IRR", occurred_at=when))


def test_the_report_counts_channels_and_compares_purchases_within_the_window(session, now, count_queries):
    members(session, 10)
    broadcast = create(session, now, holdout_percent=50, attribution_days=7, channels=("inbox", "email"))
    broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
    broadcast_send.begin_sending(session, broadcast.id, now=now)
    session.commit()
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")
                                .order_by(OutboxMessage.member_id)))
    later = now + timedelta(hours=1)
    outcomes = [("sent", None, later, later, later), ("delivered", None, None, later, None),
                ("suppressed", "no_consent", None, None, None), ("suppressed", "no_address", None, None, None),
                ("failed", "refused", None, None, None)]
    for row, (status, reason, delivered, opened, clicked) in zip(rows, outcomes, strict=True):
        row.status, row.reason, row.delivered_at, row.opened_at, row.clicked_at = \
            status, reason, delivered, opened, clicked
    messaged = [row.member_id for row in rows]
    held = list(session.scalars(select(BroadcastMember.member_id).where(BroadcastMember.held_out)))
    buy(session, messaged[0], now + timedelta(days=1))
    buy(session, messaged[0], now + timedelta(days=2))  # one buyer, however many purchases
    buy(session, messaged[1], now + timedelta(days=6, hours=23))
    buy(session, messaged[2], now + timedelta(days=7, minutes=1))  # after the window
    buy(session, held[0], now + timedelta(days=3))
    buy(session, held[1], now - timedelta(minutes=5))  # before the broadcast
    session.commit()

    with count_queries() as statements:
        report = broadcast_report.broadcast_report(session, session.get(Broadcast, broadcast.id))
    assert len(statements) <= 3
    inbox, email = report.channels
    assert (inbox.channel, inbox.targeted, inbox.sent) == ("inbox", 5, 5)
    assert (email.targeted, email.sent, email.failed, email.suppressed, email.waiting) == (5, 2, 1, 2, 0)
    assert email.suppressed_by == {"no_consent": 1, "no_address": 1}
    assert (email.delivered, email.opened, email.clicked) == (2, 2, 1)
    assert (report.messaged.members, report.messaged.buyers) == (5, 2)
    assert (report.held_out.members, report.held_out.buyers) == (5, 1)
    assert report.messaged.rate == 40 and report.held_out.rate == 20 and report.difference == 20
    assert report.window_end - report.window_start == timedelta(days=7)


def test_a_broadcast_reaches_a_real_smtp_server_worded_per_member_and_is_marked_sent(app, session, run_worker,
                                                                                    smtp_server):
    app.config.update(smtp_server.config())
    readers = {locale: factories.member(session, email=f"{locale}@example.com", display_name=f"Reader {locale}",
                                        locale=locale) for locale in ("en", "fa")}
    for member in readers.values():
        member.consent_email = True
    silent = factories.member(session, email="silent@example.com")  # never agreed to e-mail
    now = datetime.now(UTC)
    broadcast = create(session, now, channels=("email",))
    broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
    session.commit()
    enqueue(app, send_broadcast, broadcast.id)
    run_worker()  # writes the rows; its commit wakes the delivery job, which the burst worker runs too
    mails = {mail["To"]: mail for mail in smtp_server.wait_for(2)}
    assert set(mails) == {"en@example.com", "fa@example.com"}
    assert mails["en@example.com"]["Subject"].startswith("Yalda sale at ")
    assert "Dear Reader en, the sale is on." in mails["en@example.com"].get_body(("plain",)).get_content()
    assert "Reader fa عزیز، حراج یلدا آغاز شد." in mails["fa@example.com"].get_body(("plain",)).get_content()
    enqueue(app, send_due_broadcasts)
    run_worker()
    session.rollback()
    row = session.get(Broadcast, broadcast.id)
    assert row.status == "sent" and row.finished_at is not None
    [email] = broadcast_report.broadcast_report(session, row).channels
    assert (email.targeted, email.sent, email.suppressed_by) == (3, 2, {"no_consent": 1})
    assert session.scalar(select(OutboxMessage.reason).where(OutboxMessage.member_id == silent.id)) == "no_consent"
