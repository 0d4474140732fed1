"""Answering: the token in the member's link is the authority (no sign-in).
One answer per invitation: a second one changes nothing. A comment may follow
the score once (the thanks page asks for it). A detractor's answer opens a
feedback thread so staff follow it up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import FeedbackThread, Member, Survey, SurveyAnswer, SurveyInvite
from webapp.services import feedback
from webapp.services.errors import DomainError, NotFound
from webapp.services.feedback import threads as feedback_threads
from webapp.services.surveys import rules

MAX_TOKEN = 64
# feedback_threads.MAX_BODY is read when used, not imported by name: feedback's
# threads import the offers, whose rewards import the surveys (a cycle at import)
MAX_COMMENT = 2000


class ScoreInvalid(DomainError):
    """The score is not on this survey's scale."""

    code = "survey_score"


class SurveyClosed(DomainError):
    """This survey is closed."""

    code = "survey_closed"
    status = 409


@dataclass(frozen=True)
class Invitation:
    invite: SurveyInvite
    survey: Survey
    member: Member
    answer: SurveyAnswer | None


def invitation(session: Session, token: str, *, lock: bool = False) -> Invitation:
    """The invitation a token names, its survey, member and answer (one query);
    NotFound for an unknown token."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        raise NotFound("Unknown survey link.")
    query = (select(SurveyInvite, Survey, Member, SurveyAnswer)
             .join(Survey, Survey.id == SurveyInvite.survey_id)
             .join(Member, Member.id == SurveyInvite.member_id)
             .outerjoin(SurveyAnswer, SurveyAnswer.invite_id == SurveyInvite.id)
             .where(SurveyInvite.token == token))
    row = session.execute(query.with_for_update(of=SurveyInvite) if lock else query).one_or_none()
    if row is None:
        raise NotFound("Unknown survey link.")
    return Invitation(*row)


def clean_comment(comment: str | None) -> str | None:
    text = (comment or "").strip()
    return text[:MAX_COMMENT] or None


@dataclass(frozen=True)
class Answered:
    answer: SurveyAnswer
    new: bool  # False: the invitation had been answered; nothing changed


def answer_survey(session: Session, token: str, *, score, comment: str | None, now: datetime) -> Answered:
    """Record the answer to the invitation, once."""
    found = invitation(session, token, lock=True)
    if found.answer is not None:
        return Answered(found.answer, new=False)
    survey = found.survey
    if survey.status != "active":
        raise SurveyClosed(survey_id=survey.id)
    if not rules.valid_score(survey.kind, score):
        raise ScoreInvalid(kind=survey.kind)
    # a twin request that got past the lock (SQLite has none) finds it answered here
    taken = session.execute(update(SurveyInvite).where(SurveyInvite.id == found.invite.id,
                                                       SurveyInvite.answered_at.is_(None))
                            .values(answered_at=now)).rowcount
    if not taken:
        return Answered(invitation(session, token).answer, new=False)
    answer = SurveyAnswer(invite_id=found.invite.id, survey_id=survey.id, member_id=found.member.id, score=score,
                          comment=clean_comment(comment), tier_id=found.member.tier_id, created_at=now)
    session.add(answer)
    session.flush()
    if rules.is_detractor(survey.kind, score) and found.member.is_active:
        follow_up(session, answer, survey, now=now)
    return Answered(answer, new=True)


def add_comment(session: Session, token: str, *, comment: str | None, now: datetime) -> SurveyAnswer:
    """The "why" after a one-tap score: kept when the answer has none yet."""
    found = invitation(session, token, lock=True)
    if found.answer is None:
        raise NotFound("Not answered yet.")
    text = clean_comment(comment)
    answer = found.answer
    if text and not answer.comment:
        answer.comment = text
        session.flush()
        if rules.is_detractor(found.survey.kind, answer.score) and found.member.is_active:
            # the "why" after a one-tap score joins the follow-up thread opened with the score
            thread_id = session.scalar(select(FeedbackThread.id).where(FeedbackThread.survey_answer_id == answer.id))
            if thread_id is None:
                follow_up(session, answer, found.survey, now=now)
            else:
                feedback.member_reply(session, thread_id=thread_id, member_id=answer.member_id,
                                      body=text[:feedback_threads.MAX_BODY], now=now)
    return answer


def follow_up(session: Session, answer: SurveyAnswer, survey: Survey, *, now: datetime):
    """A detractor's answer: a feedback thread (category `survey`) for staff to
    follow up, once per answer; its first post says the survey, the score and why."""
    top = rules.scale(survey.kind)[-1]
    head = f"{survey.name}: {answer.score}/{top}"
    body = f"{head}\n\n{answer.comment}" if answer.comment else head
    return feedback.open_thread(session, member_id=answer.member_id, category="survey",
                                body=body[:feedback_threads.MAX_BODY],
                                now=now, survey_answer_id=answer.id)
