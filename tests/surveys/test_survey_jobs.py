"""Sending a survey to a big segment through a real RQ worker (burst): the job
invites chunk by chunk, writes each member's outbox rows once, and a second run
(RQ is at-least-once) writes nothing new; a closed survey stops it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.helpers.web import in_db
from tests.surveys.helpers import active_survey
from webapp.models import OutboxMessage, SurveyInvite


def counts(app):
    return in_db(app, lambda s: (
        s.scalar(select(func.count()).select_from(SurveyInvite)),
        dict(s.execute(select(OutboxMessage.channel, func.count()).where(OutboxMessage.kind == "survey")
                       .group_by(OutboxMessage.channel)).all())))


def test_a_segment_send_through_the_worker_writes_outbox_rows_once(app, make_member, run_worker):
    from webapp.jobs import get_queue
    from webapp.jobs.surveys import enqueue_send, send_survey

    members = [make_member() for _ in range(5)]
    survey_id = active_survey(app)
    with app.app_context():
        get_queue("low").enqueue(send_survey, survey_id, None, 2)  # chunks of 2: three transactions
    run_worker()
    assert counts(app) == (5, {"inbox": 5, "email": 5, "sms": 5})
    with app.app_context():
        assert enqueue_send(survey_id, None)  # a second run, as a retried job would be
    run_worker()
    assert counts(app) == (5, {"inbox": 5, "email": 5, "sms": 5})
    tokens = in_db(app, lambda s: s.scalars(select(OutboxMessage.params).where(OutboxMessage.channel == "email")).all())
    assert len({p["token"] for p in tokens}) == len(members)


def test_a_closed_survey_stops_its_sending(app, make_member, run_worker):
    from webapp.jobs.surveys import enqueue_send

    make_member()
    survey_id = active_survey(app, status="closed")
    with app.app_context():
        enqueue_send(survey_id, None)
    run_worker()
    assert counts(app) == (0, {})


def test_the_invitation_e_mail_carries_the_question_and_the_absolute_link(app, make_member, run_worker,
                                                                          smtp_server):
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.services import surveys as service
    from webapp.services.members import audit

    app.config.update(smtp_server.config())
    app.config["VAFA_PUBLIC_URL"] = "https://club.example"
    member = make_member(email="reader@example.com", locale="en")
    survey_id = active_survey(app)
    with app.app_context():
        db.session.get(Member, member.id).consent_email = True
        service.send_survey(db.session, survey_id, None, actor=audit.CLI, now=datetime.now(UTC))
        db.session.commit()  # wakes the delivery worker
    run_worker()
    [mail] = smtp_server.wait_for(1)
    token = in_db(app, lambda s: s.scalar(select(SurveyInvite.token)))
    body = mail.get_body(("plain",)).get_content()
    assert mail["To"] == "reader@example.com"
    assert "How likely are you to recommend us to a friend?" in body
    assert f"https://club.example/surveys/{token}" in body
