"""Staff side of broadcasts and the outbox: who may see and do what, the editor's
validation (an unknown variable named), the preview in both languages, sending
through the real job with progress polled, the report page, and the outbox list
with its filters, keyset pages and retry (audited, a worker woken)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers.web import MEMBER_PASSWORD, in_db, log_in, post_form, text
from tests.helpers.web import sign_in_staff as sign_in
from webapp.jobs.messages import QUEUED_FLAG
from webapp.models import AuditLog, Broadcast, InboxMessage, OutboxMessage
from webapp.services import messages
from webapp.services.members import audit
from webapp.services.messages import broadcast_send, broadcasts
from webapp.services.messages.broadcasts import BroadcastDraft


def form(**changes) -> dict:
    values = {"name": "Yalda", "segment": "all", "channels": ["inbox", "email"],
              "subject_fa": "حراج یلدا", "subject_en": "Yalda sale", "body_fa": "{{ name }} عزیز، حراج آغاز شد.",
              "body_en": "Dear {{ name }}, the sale is on at {{ club }}.", "holdout_percent": "20",
              "attribution_days": "7", "scheduled_at": ""}
    return {**values, **changes}


def make_broadcast(app, **changes) -> int:
    values = {"name": "Autumn", "segment_id": None, "channels": ("inbox",), "subject_fa": "پاییز",
              "subject_en": "Autumn", "body_fa": "سلام {{ name }}", "body_en": "Hello {{ name }}"}

    def create(s):
        broadcast = broadcasts.create_broadcast(s, BroadcastDraft(**{**values, **changes}), actor=audit.CLI,
                                                now=datetime.now(UTC))
        s.commit()
        return broadcast.id

    return in_db(app, create)


def broadcast_row(app, broadcast_id) -> Broadcast:
    def get(s):
        row = s.get(Broadcast, broadcast_id)
        s.expunge(row)
        return row

    return in_db(app, get)


@pytest.mark.parametrize(("role", "read", "write"), [("owner", 200, 200), ("marketer", 200, 200),
                                                     ("operator", 403, 403), ("auditor", 200, 403)])
def test_broadcasts_are_written_by_owners_and_marketers_and_read_by_auditors(app, client, make_staff, role,
                                                                             read, write):
    broadcast_id = make_broadcast(app)
    sign_in(client, make_staff(role))
    for url in ("/admin/messages", f"/admin/messages/{broadcast_id}"):
        assert client.get(url).status_code == read, url
    for url in ("/admin/messages/new", f"/admin/messages/{broadcast_id}/edit", f"/admin/messages/{broadcast_id}/send"):
        assert client.get(url).status_code == write, url
    if write == 403:
        answer = post_form(client, f"/admin/messages/{broadcast_id}/send", {}, form_url="/admin/")
        assert answer.status_code == 403
        assert post_form(client, "/admin/messages/new", form(), form_url="/admin/").status_code == 403
        assert broadcast_row(app, broadcast_id).status == "draft"
        assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(Broadcast))) == 1


@pytest.mark.parametrize(("role", "read", "retry"), [("owner", 200, True), ("operator", 200, True),
                                                     ("auditor", 200, False), ("marketer", 403, False)])
def test_the_outbox_is_for_owners_operators_and_auditors(app, client, make_staff, make_member, role, read, retry):
    member = make_member()
    row_id = in_db(app, lambda s: _failed_row(s, member.id))
    sign_in(client, make_staff(role))
    page = client.get("/admin/outbox")
    assert page.status_code == read
    if read == 200:
        assert (f"/admin/outbox/{row_id}/retry" in page.get_data(as_text=True)) is retry
    if not retry:
        answer = post_form(client, f"/admin/outbox/{row_id}/retry", {}, form_url="/admin/")
        assert answer.status_code == 403
        assert in_db(app, lambda s: s.get(OutboxMessage, row_id).status) == "failed"


def _failed_row(s, member_id, *, channel="email", kind="raffle_won", key="raffle:1:won") -> int:
    now = datetime.now(UTC)
    messages.notify(s, member_id=member_id, kind=kind, params={"name": "x", "prize": "y"}, key=key,
                    now=now, channels=(channel,))
    row = s.scalar(select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.member_id == member_id))
    row.status, row.reason, row.error, row.attempts = "failed", "refused", "550 no such user", 3
    s.commit()
    return row.id


def test_the_editor_names_an_unknown_variable_and_saves_nothing(app, client, make_staff):
    sign_in(client, make_staff("marketer"))
    answer = post_form(client, "/admin/messages/new", form(body_en="Hi {{ nmae }}", channels=[]))
    assert answer.status_code == 422
    page = text(answer.get_data(as_text=True))
    assert "Unknown variable: nmae" in page
    answer = post_form(client, "/admin/messages/new", form(holdout_percent="60", channels=["fax"]))
    assert answer.status_code == 422 and "Between 0 and 50 percent." in answer.get_data(as_text=True)
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(Broadcast))) == 0


def test_a_draft_is_previewed_in_both_languages_scheduled_and_cancelled_with_an_audit_trail(
        app, client, make_staff, make_member):
    make_member(display_name="Sara")
    sign_in(client, make_staff("owner"))
    # Jalali with Persian digits, in the club's time zone (Tehran, UTC+3:30)
    answer = post_form(client, "/admin/messages/new", form(scheduled_at="۱۴۰۸-۱۰-۱۲ ۱۰:۰۰"))
    assert answer.status_code == 302
    broadcast_id = int(re.search(r"/admin/messages/(\d+)$", answer.headers["Location"])[1])
    row = broadcast_row(app, broadcast_id)
    assert (row.status, row.channels, row.holdout_percent) == ("draft", ["inbox", "email"], 20)
    assert row.scheduled_at == datetime(2030, 1, 1, 6, 30, tzinfo=UTC)
    page = client.get(f"/admin/messages/{broadcast_id}").get_data(as_text=True)
    assert "Dear Sara, the sale is on at" in page and "Sara عزیز، حراج آغاز شد." in page
    assert 'id="preview-fa"' in page and 'dir="rtl"' in page

    edit_url = f"/admin/messages/{broadcast_id}/edit"
    assert post_form(client, edit_url, form(scheduled_at="2030-01-02 09:00", holdout_percent="0")).status_code == 302
    url = f"/admin/messages/{broadcast_id}"
    assert "Schedule this broadcast?" in client.get(f"{url}/schedule").get_data(as_text=True)
    assert post_form(client, f"{url}/schedule", {}, form_url=f"{url}/schedule").status_code == 303
    assert broadcast_row(app, broadcast_id).status == "scheduled"
    assert client.get(edit_url).status_code == 302  # no longer a draft
    assert post_form(client, f"{url}/cancel", {}, form_url=f"{url}/cancel").status_code == 303
    assert broadcast_row(app, broadcast_id).status == "cancelled"
    answer = post_form(client, f"{url}/send", {}, form_url=f"{url}/send", follow_redirects=True)
    assert "no longer possible" in answer.get_data(as_text=True)
    actions = in_db(app, lambda s: list(s.scalars(select(AuditLog.action).where(
        AuditLog.object_type == "broadcast", AuditLog.object_id == str(broadcast_id)).order_by(AuditLog.id))))
    assert actions == ["broadcasts.create", "broadcasts.update", "broadcasts.schedule", "broadcasts.cancel"]


def test_scheduling_without_a_time_ahead_is_refused(app, client, make_staff):
    broadcast_id = make_broadcast(app)
    sign_in(client, make_staff("owner"))
    url = f"/admin/messages/{broadcast_id}"
    answer = post_form(client, f"{url}/schedule", {}, form_url=url, follow_redirects=True)
    assert "Enter a time in the future" in answer.get_data(as_text=True)
    assert broadcast_row(app, broadcast_id).status == "draft"


def test_send_now_runs_the_job_polls_progress_and_shows_the_report(app, client, make_staff, make_member,
                                                                   run_worker):
    for _ in range(10):
        make_member()
    broadcast_id = make_broadcast(app, holdout_percent=20, channels=("inbox", "email"))
    sign_in(client, make_staff("marketer"))
    url = f"/admin/messages/{broadcast_id}"
    assert client.post(f"{url}/send").status_code == 400  # no CSRF token
    assert post_form(client, f"{url}/send", {}, form_url=f"{url}/send").status_code == 303
    assert broadcast_row(app, broadcast_id).status == "scheduled"
    page = client.get(url).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in page  # due: the page polls
    run_worker()  # sends the broadcast, then delivers the e-mails (console sender)
    row = broadcast_row(app, broadcast_id)
    assert (row.status, row.targeted, row.held_out) == ("sending", 8, 2)
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "broadcast-progress"})
    assert 'id="progress-email"' in fragment.get_data(as_text=True)
    assert in_db(app, lambda s: s.scalar(select(func.count()).select_from(InboxMessage))) == 8
    page = client.get(url).get_data(as_text=True)
    assert 'id="broadcast-report"' in page and 'id="report-held-out"' in page


def test_the_outbox_filters_pages_by_id_and_retries_a_failed_row(app, client, make_staff, make_member):
    members = [make_member() for _ in range(3)]
    failed = in_db(app, lambda s: _failed_row(s, members[0].id))
    for i, m in enumerate(members):
        in_db(app, lambda s, m=m, i=i: (messages.notify(s, member_id=m.id, kind="tier_upgrade",
                                                        params={"tier": "Gold", "multiplier": 2}, key=f"t:{i}",
                                                        now=datetime.now(UTC), channels=("sms",)), s.commit()))
    sign_in(client, make_staff("operator"))
    page = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert f'id="delivery-{failed}"' in page and page.count('id="delivery-') == 1
    assert "550 no such user" in page
    page = client.get("/admin/outbox?channel=sms").get_data(as_text=True)
    assert page.count('id="delivery-') == 3
    page = client.get(f"/admin/outbox?member={members[0].email}").get_data(as_text=True)
    assert page.count('id="delivery-') == 2
    page = client.get(f"/admin/outbox?member={members[1].id}&kind=tier_upgrade").get_data(as_text=True)
    assert page.count('id="delivery-') == 1
    # keyset pages of one: each older than the last
    from webapp.admin import outbox as view
    view.PAGE, before = 1, None
    try:
        seen = []
        for _ in range(4):
            html = client.get("/admin/outbox" + (f"?before={before}" if before else "")).get_data(as_text=True)
            seen += [int(i) for i in re.findall(r'id="delivery-(\d+)"', html)]
            match = re.search(r'rel="next" href="[^"]*before=(\d+)', html)
            before = match and match[1]
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == 4 and before is None
    finally:
        view.PAGE = 50

    app.extensions["vafa_redis"].delete(QUEUED_FLAG)
    answer = post_form(client, f"/admin/outbox/{failed}/retry", {"next": "/admin/outbox?status=failed"},
                       form_url="/admin/outbox")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/outbox?status=failed")
    row = in_db(app, lambda s: s.get(OutboxMessage, failed))
    assert (row.status, row.attempts) == ("pending", 0)
    assert app.extensions["vafa_redis"].exists(QUEUED_FLAG)  # a worker was woken
    again = post_form(client, f"/admin/outbox/{failed}/retry", {}, form_url="/admin/outbox", follow_redirects=True)
    assert "Only a failed delivery can be tried again." in again.get_data(as_text=True)
    entry = in_db(app, lambda s: s.scalar(select(AuditLog).where(AuditLog.action == "outbox.retry")))
    assert entry.object_id == str(failed) and entry.actor.startswith("staff:")


@pytest.mark.parametrize(("locale", "words"), [("en", "Hello Sara &lt;b&gt;now&lt;/b&gt;"),
                                                ("fa", "سلام Sara &lt;b&gt;now&lt;/b&gt;")])
def test_a_member_reads_the_broadcast_in_their_inbox_worded_for_them_and_escaped(app, client, make_member,
                                                                                 locale, words):
    member = make_member(password=MEMBER_PASSWORD, display_name="Sara", locale=locale)
    broadcast_id = make_broadcast(app, body_en="Hello {{ name }} <b>now</b>", body_fa="سلام {{ name }} <b>now</b>")

    def send(s):
        now = datetime.now(UTC)
        broadcasts.schedule_broadcast(s, broadcast_id, actor=audit.CLI, now=now, send_now=True)
        broadcast_send.begin_sending(s, broadcast_id, now=now)
        s.commit()

    in_db(app, send)
    log_in(client, member.email)
    page = client.get("/me/inbox").get_data(as_text=True)
    assert words in page and ("Autumn" if locale == "en" else "پاییز") in page
    assert f'lang="{locale}"' in page
