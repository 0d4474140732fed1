"""Designing surveys: create and edit (drafts), activate, close. Every change
is a staff write and goes to the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import SURVEY_KINDS, SURVEY_TRIGGERS, Segment, Survey
from webapp.services.errors import Conflict, NotFound, ProblemsInvalid
from webapp.services.members import audit

MAX_NAME = 120
MAX_QUESTION = 300


class SurveyInvalid(ProblemsInvalid):
    """The survey is not valid."""

    code = "survey_invalid"


class SurveyStateConflict(Conflict):
    """The survey is not in a state that allows this."""

    code = "survey_state"


@dataclass(frozen=True)
class SurveyDraft:
    kind: str
    name: str
    question_fa: str
    question_en: str
    trigger: str = "manual"
    segment_id: int | None = None

    def normalised(self) -> SurveyDraft:
        return replace(self, name=(self.name or "").strip(), question_fa=(self.question_fa or "").strip(),
                       question_en=(self.question_en or "").strip())


def check_survey(session: Session, draft: SurveyDraft) -> dict[str, str]:
    """What is wrong with the draft, as field -> code."""
    d = draft.normalised()
    problems: dict[str, str] = {}
    if d.kind not in SURVEY_KINDS:
        problems["kind"] = "survey_kind"
    if not d.name or len(d.name) > MAX_NAME:
        problems["name"] = "survey_name"
    for name in ("question_fa", "question_en"):
        text = getattr(d, name)
        if not text or len(text) > MAX_QUESTION:
            problems[name] = "survey_question"
    if d.trigger not in SURVEY_TRIGGERS:
        problems["trigger"] = "survey_trigger"
    if d.segment_id is not None:
        segment = session.get(Segment, d.segment_id)
        if segment is None or segment.archived_at is not None:
            problems["segment_id"] = "segment_choice"
    return problems


def _view(survey: Survey) -> dict:
    return {"kind": survey.kind, "name": survey.name, "question_fa": survey.question_fa,
            "question_en": survey.question_en, "trigger": survey.trigger, "segment_id": survey.segment_id,
            "status": survey.status}


def get_survey(session: Session, survey_id: int, *, lock: bool = False) -> Survey:
    query = select(Survey).where(Survey.id == survey_id)
    survey = session.scalar(query.with_for_update() if lock else query)
    if survey is None:
        raise NotFound("Survey not found.", survey_id=survey_id)
    return survey


def create_survey(session: Session, draft: SurveyDraft, *, actor: audit.Actor, now: datetime) -> Survey:
    draft = draft.normalised()
    problems = check_survey(session, draft)
    if problems:
        raise SurveyInvalid(problems)
    survey = Survey(**asdict(draft), status="draft", created_by=actor.label, created_at=now)
    session.add(survey)
    session.flush()
    audit.record(session, actor, "survey.create", "survey", survey.id, now=now, after=_view(survey))
    return survey


def update_survey(session: Session, survey_id: int, draft: SurveyDraft, *, actor: audit.Actor,
                  now: datetime) -> Survey:
    """Edit the survey. Its kind and question are what members answered, so once
    it was activated only the name and the segment may change."""
    draft = draft.normalised()
    survey = get_survey(session, survey_id, lock=True)
    problems = check_survey(session, draft)
    if survey.status != "draft":
        for name in ("kind", "question_fa", "question_en", "trigger"):
            if getattr(draft, name) != getattr(survey, name):
                problems[name] = "survey_not_draft"
    if problems:
        raise SurveyInvalid(problems)
    before = _view(survey)
    for name, value in asdict(draft).items():
        setattr(survey, name, value)
    session.flush()
    audit.record(session, actor, "survey.update", "survey", survey.id, now=now, before=before, after=_view(survey))
    return survey


def _move(session: Session, survey_id: int, *, to: str, allowed: tuple[str, ...], actor: audit.Actor,
          now: datetime) -> Survey:
    survey = get_survey(session, survey_id, lock=True)
    if survey.status not in allowed:
        raise SurveyStateConflict(survey_id=survey_id, status=survey.status)
    before = _view(survey)
    survey.status = to
    session.flush()
    audit.record(session, actor, f"survey.{'activate' if to == 'active' else 'close'}", "survey", survey.id,
                 now=now, before=before, after=_view(survey))
    return survey


def activate_survey(session: Session, survey_id: int, *, actor: audit.Actor, now: datetime) -> Survey:
    """Open the survey for answers (and, if triggered, start inviting)."""
    return _move(session, survey_id, to="active", allowed=("draft",), actor=actor, now=now)


def close_survey(session: Session, survey_id: int, *, actor: audit.Actor, now: datetime) -> Survey:
    """No more invitations and no more answers; the results stay."""
    return _move(session, survey_id, to="closed", allowed=("draft", "active"), actor=actor, now=now)


def survey_list(session: Session, *, limit: int = 200) -> list[Survey]:
    return list(session.scalars(select(Survey).order_by(Survey.id.desc()).limit(limit)))
