"""A survey with invited members, committed, for the page and job tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.helpers.web import in_db
from webapp.models import SurveyInvite
from webapp.services import surveys
from webapp.services.members import audit

QUESTION = {"question_fa": "چقدر ما را به دوستانتان پیشنهاد می‌کنید؟",
            "question_en": "How likely are you to recommend us to a friend?"}


def active_survey(app, *, kind="nps", trigger="manual", segment_id=None, status="active") -> int:
    def create(s):
        now = datetime.now(UTC)
        survey = surveys.create_survey(s, surveys.SurveyDraft(kind=kind, name=f"{kind} survey", trigger=trigger,
                                                              segment_id=segment_id, **QUESTION),
                                       actor=audit.CLI, now=now)
        if status != "draft":
            surveys.activate_survey(s, survey.id, actor=audit.CLI, now=now)
        if status == "closed":
            surveys.close_survey(s, survey.id, actor=audit.CLI, now=now)
        s.commit()
        return survey.id

    return in_db(app, create)


def send(app, survey_id, segment_id=None) -> dict[int, str]:
    """Invite the segment; returns {member id: token}."""
    def run(s):
        surveys.send_survey(s, survey_id, segment_id, actor=audit.CLI, now=datetime.now(UTC))
        s.commit()
        return dict(s.execute(select(SurveyInvite.member_id, SurveyInvite.token)
                              .where(SurveyInvite.survey_id == survey_id)).all())

    return in_db(app, run)
