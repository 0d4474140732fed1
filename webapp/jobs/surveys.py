"""Inviting the rest of a big segment to a survey, a chunk per transaction.
Safe to run twice or at once: a member already invited is skipped (the
invitation's UNIQUE (survey, cause) and the "not asked yet" filter)."""

from __future__ import annotations

import logging

from webapp.extensions import db
from webapp.jobs import enqueue_once
from webapp.jobs.context import job_app
from webapp.models import utcnow
from webapp.services import surveys

log = logging.getLogger(__name__)
QUEUE = "low"


def job_id(survey_id: int, segment_id: int | None) -> str:
    return f"survey-{survey_id}-send-{segment_id or 'all'}"


def enqueue_send(survey_id: int, segment_id: int | None) -> bool:
    """Call after committing."""
    return enqueue_once(send_survey, survey_id, segment_id, job_id=job_id(survey_id, segment_id),
                        job_timeout=3600, queue=QUEUE)


def send_survey(survey_id: int, segment_id: int | None, chunk: int = surveys.CHUNK) -> dict:
    """Invite every member of the segment not invited yet; stops when the survey
    is no longer active (closed meanwhile)."""
    with job_app():
        session = db.session
        invited = 0
        while True:
            try:
                done = surveys.invite_segment(session, survey_id, segment_id, now=utcnow(), limit=chunk)
            except (surveys.SurveyStateConflict, surveys.NotFound):
                session.rollback()
                log.info("survey %s is not active: its sending stops", survey_id)
                break
            session.commit()  # each chunk with its messages: a crash keeps what was sent
            invited += done
            if done < chunk:
                break
        return {"survey": survey_id, "segment": segment_id, "invited": invited}
