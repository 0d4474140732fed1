"""A marketer watches a broadcast go out on a 360 px phone, in Persian and in
English: while it sends, the progress section asks again every 2 s (htmx); once
the workers have dealt with every message the page reloads by itself with the
report. Every page fits the screen and axe finds no serious problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.e2e.pages import SMALL_PHONE, check_the_page


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_broadcast_page_polls_while_sending_then_shows_the_report(app, make_member, make_staff, browser_page,
                                                                       axe_violations, locale):
    from webapp.extensions import db
    from webapp.models import OutboxMessage, Purchase
    from webapp.services.members import audit
    from webapp.services.messages import broadcast_send, broadcasts

    people = [make_member() for _ in range(6)]
    marketer = make_staff("marketer")
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        broadcast = broadcasts.create_broadcast(session, broadcasts.BroadcastDraft(
            name="Yalda", segment_id=None, channels=("inbox", "email"), subject_fa="حراج", subject_en="Sale",
            body_fa="سلام {{ name }}", body_en="Hello {{ name }}", holdout_percent=50), actor=audit.CLI, now=now)
        broadcasts.schedule_broadcast(session, broadcast.id, actor=audit.CLI, now=now, send_now=True)
        broadcast_send.begin_sending(session, broadcast.id, now=now)
        session.add(Purchase(member_id=people[0].id, amount=5000, currency="IRR",
                             occurred_at=now + timedelta(minutes=1)))
        session.commit()
        broadcast_id = broadcast.id

    page = browser_page(locale)
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/admin/login")
    page.fill("#email", marketer.email)
    page.fill("#password", marketer.plain_password)
    page.click("main form button[type=submit]")
    page.goto(f"/admin/messages/{broadcast_id}")
    assert page.get_attribute("#broadcast-progress", "hx-trigger") == "every 2s"
    assert page.locator("#broadcast-report").count() == 1  # what is known so far
    check_the_page(page, axe_violations, "broadcast-sending", locale)

    with page.expect_response(lambda r: f"/admin/messages/{broadcast_id}" in r.url
                              and r.request.headers.get("hx-request") == "true"):
        pass  # the page asks for progress by itself
    with app.app_context():  # the workers deal with every e-mail; the minute cron marks it sent
        db.session.execute(update(OutboxMessage).where(OutboxMessage.channel == "email")
                           .values(status="suppressed", reason="no_consent"))
        broadcast_send.finish_delivered(db.session, datetime.now(UTC))
        db.session.commit()
    page.locator("#broadcast-report [data-reason='no_consent']").wait_for(timeout=8_000)
    assert page.get_attribute("#broadcast-progress", "hx-trigger") is None  # reloaded: no more polling
    check_the_page(page, axe_violations, "broadcast-sent", locale)
