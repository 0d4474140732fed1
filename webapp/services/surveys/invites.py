"""Inviting members to answer: to a whole segment (set-based, in chunks a job
carries on), or one member after their purchase or redemption, in the same
transaction as that act. Each invitation is a `survey` message through the
outbox whose link carries the invitation's unguessable token.

The rule: one survey asks one member at most once per `rules.COOLDOWN` (90 days
for NPS, 30 for CSAT), whatever the cause; a manual survey asks each member once."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from webapp.db import insert_ignoring_duplicates
from webapp.models import Member, Survey, SurveyInvite
from webapp.services import config_cache, messages
from webapp.services.members import audit
from webapp.services.offers import segments
from webapp.services.surveys.manage import SurveyStateConflict, get_survey
from webapp.services.surveys.rules import COOLDOWN

CHUNK = 500
KIND = "survey"


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: not guessable, 32 characters


def survey_path(token: str, score: int | None = None) -> str:
    return f"/surveys/{token}" + (f"?score={score}" if score is not None else "")


def message_params(survey: Survey, token: str) -> dict:
    """The message's variables; `path` becomes the absolute `link` when it is
    worded (`render.variables`), so the club's public address is read there."""
    return {"path": survey_path(token), "token": token, "survey_id": survey.id, "scale": survey.kind,
            "question_fa": survey.question_fa, "question_en": survey.question_en}


def _invite(session: Session, survey: Survey, rows: list[dict], now: datetime) -> int:
    """Insert invitations ({member_id, cause}) not there yet and send each new one."""
    if not rows:
        return 0
    values = [{"survey_id": survey.id, "member_id": r["member_id"], "cause": r["cause"], "token": new_token(),
               "sent_at": now} for r in rows]
    new = session.execute(
        insert_ignoring_duplicates(session, SurveyInvite).values(values)
        .on_conflict_do_nothing(index_elements=["survey_id", "cause"])
        .returning(SurveyInvite.id, SurveyInvite.member_id, SurveyInvite.token)
    ).all()
    messages.notify_many(session, [
        {"member_id": member_id, "kind": KIND, "key": f"survey:{invite_id}",
         "params": message_params(survey, token)} for invite_id, member_id, token in new], now=now)
    return len(new)


def _manual_cause(member_id):
    return literal("manual:") + cast(member_id, String)


def invite_segment(session: Session, survey_id: int, segment_id: int | None, *, now: datetime,
                   limit: int = CHUNK) -> int:
    """Invite up to `limit` active members of the segment (None: everyone) who
    were not asked yet: never this manual invitation, nor any in the cooldown.
    Returns how many were invited; fewer than `limit` means the segment is done."""
    survey = get_survey(session, survey_id)
    if survey.status != "active":
        raise SurveyStateConflict(survey_id=survey_id, status=survey.status)
    asked = exists().where(
        SurveyInvite.survey_id == survey.id, SurveyInvite.member_id == Member.id,
        or_(SurveyInvite.cause == _manual_cause(Member.id), SurveyInvite.sent_at > now - COOLDOWN[survey.kind]))
    ids = session.scalars(segments.audience(session, segment_id, now).where(~asked)
                          .order_by(Member.id).limit(limit)).all()
    return _invite(session, survey, [{"member_id": i, "cause": f"manual:{i}"} for i in ids], now)


def send_survey(session: Session, survey_id: int, segment_id: int | None, *, actor: audit.Actor,
                now: datetime, limit: int = CHUNK) -> int:
    """Staff send the survey to a segment: the first chunk now (a small segment
    is done at once); when this returns `limit` a job invites the rest."""
    invited = invite_segment(session, survey_id, segment_id, now=now, limit=limit)
    audit.record(session, actor, "survey.send", "survey", survey_id, now=now,
                 after={"segment_id": segment_id, "invited_now": invited})
    return invited


def _eligible(session: Session, surveys: list[Survey], member_id: int, now: datetime) -> list[Survey]:
    """The surveys whose segment holds the member and who did not ask them within the cooldown."""
    wanted = [s.segment_id for s in surveys if s.segment_id is not None]
    inside = segments.member_ids_in(session, wanted, member_id, now) if wanted else set()
    last = dict(session.execute(
        select(SurveyInvite.survey_id, func.max(SurveyInvite.sent_at))
        .where(SurveyInvite.member_id == member_id, SurveyInvite.survey_id.in_([s.id for s in surveys]))
        .group_by(SurveyInvite.survey_id)).all())
    return [s for s in surveys
            if (s.segment_id is None or s.segment_id in inside)
            and (last.get(s.id) is None or last[s.id] <= now - COOLDOWN[s.kind])]


def _triggered(session: Session, trigger: str, member_id: int, cause: str, now: datetime) -> int:
    if trigger not in _active_triggers(session):
        return 0  # most purchases: no survey asks, and the cached answer says so without a query
    # the caller holds the member's row lock: the cooldown check cannot race
    surveys = list(session.scalars(select(Survey).where(Survey.status == "active", Survey.trigger == trigger)))
    if not surveys:
        return 0
    return sum(_invite(session, s, [{"member_id": member_id, "cause": cause}], now)
               for s in _eligible(session, surveys, member_id, now))


def _active_triggers(session: Session) -> frozenset[str]:
    """The triggers some active survey listens to (cached per configuration version)."""
    return config_cache.cached(session, "survey_triggers", lambda s: frozenset(s.scalars(
        select(Survey.trigger).where(Survey.status == "active").distinct())))


def on_purchase(session: Session, *, member_id: int, purchase_id: int, now: datetime) -> int:
    """After a purchase: invite the buyer to the active after-purchase surveys."""
    return _triggered(session, "after_purchase", member_id, f"purchase:{purchase_id}", now)


def on_redemption(session: Session, *, member_id: int, coupon_id: int, now: datetime) -> int:
    """After a redemption: invite the member to the active after-redemption surveys."""
    return _triggered(session, "after_redemption", member_id, f"redemption:{coupon_id}", now)


def invited_count(session: Session, survey_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(SurveyInvite)
                              .where(SurveyInvite.survey_id == survey_id)) or 0)


