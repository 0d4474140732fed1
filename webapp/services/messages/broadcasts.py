"""Broadcasts: staff write a message to a segment (or every active member) on the
channels they choose, preview it per language, then send it now or schedule it.

Life of a broadcast: draft → scheduled → sending → sent, or cancelled before it
starts. The staff's subject and body are templates themselves (the kind
`broadcast`'s variables and the common ones), worded per member in their
language by the same sandbox as every message (`render.own_text`). Sending
(`broadcast_send`, run by `webapp.jobs.broadcasts`) freezes the audience, holds a
random part of it out, and writes the outbox rows set-based.

Services never commit; the views and the job do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from webapp.models import CHANNELS, Broadcast, Member, OutboxMessage, Segment
from webapp.services.errors import Conflict, NotFound, Problem, ProblemsInvalid
from webapp.services.members import audit
from webapp.services.messages import render
from webapp.services.messages.channels import Outgoing
from webapp.services.offers import segments
from webapp.services.offers.campaigns import held_out_count

KIND = "broadcast"
MAX_NAME = 120
MAX_SUBJECT = 200
MAX_BODY = 2000
MAX_HOLDOUT_PERCENT = 50
MAX_ATTRIBUTION_DAYS = 90
EDITABLE = ("draft",)
CANCELLABLE = ("draft", "scheduled")
TEXT_FIELDS = ("subject_fa", "subject_en", "body_fa", "body_en")
LOCALES = ("fa", "en")


class BroadcastInvalid(ProblemsInvalid):
    """The broadcast is not valid."""

    code = "broadcast_invalid"


class BroadcastStateConflict(Conflict):
    """The broadcast is not in a state that allows this."""

    code = "broadcast_state"


@dataclass(frozen=True)
class BroadcastDraft:
    """What staff write. `scheduled_at` None: not scheduled yet (or sent now)."""

    name: str
    segment_id: int | None
    channels: tuple[str, ...]
    subject_fa: str
    subject_en: str
    body_fa: str
    body_en: str
    holdout_percent: int = 0
    attribution_days: int = 7
    scheduled_at: datetime | None = None

    def normalised(self) -> BroadcastDraft:
        clean = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("name", *TEXT_FIELDS):
            clean[name] = (clean[name] or "").strip()
        clean["channels"] = tuple(c for c in CHANNELS if c in set(self.channels or ()))
        return BroadcastDraft(**clean)


DRAFT_FIELDS = tuple(f.name for f in fields(BroadcastDraft))


# -- designing ---------------------------------------------------------------------


def check_broadcast(session: Session, draft: BroadcastDraft) -> list[Problem]:
    """What is wrong with the draft, as problems (field, code, params)."""
    d = draft.normalised()
    problems: list[Problem] = []
    if not d.name or len(d.name) > MAX_NAME:
        problems.append(Problem("name", "broadcast_name", {"n": MAX_NAME}))
    if d.segment_id is not None:
        segment = session.get(Segment, d.segment_id)
        if segment is None or segment.archived_at is not None:
            problems.append(Problem("segment_id", "segment_choice"))
    if not d.channels or len(set(draft.channels or ())) != len(d.channels):
        problems.append(Problem("channels", "broadcast_channels"))
    if not 0 <= (d.holdout_percent if d.holdout_percent is not None else -1) <= MAX_HOLDOUT_PERCENT:
        problems.append(Problem("holdout_percent", "holdout_range", {"n": MAX_HOLDOUT_PERCENT}))
    if not 1 <= (d.attribution_days or 0) <= MAX_ATTRIBUTION_DAYS:
        problems.append(Problem("attribution_days", "attribution_days_range", {"n": MAX_ATTRIBUTION_DAYS}))
    for name in TEXT_FIELDS:
        problems.extend(_text_problems(name, getattr(d, name)))
    return problems


def _text_problems(name: str, text: str) -> list[Problem]:
    limit = MAX_SUBJECT if name.startswith("subject") else MAX_BODY
    if not text:
        return [Problem(name, "broadcast_text_required")]
    if len(text) > limit:
        return [Problem(name, "broadcast_text_long", {"n": limit})]
    try:
        render.check(KIND, text)
    except render.TemplateProblem as exc:
        if exc.variable:
            return [Problem(name, "template_unknown_variable", {"variable": exc.variable})]
        return [Problem(name, "template_syntax", {"error": str(exc)})]
    return []


def _validated(session: Session, draft: BroadcastDraft) -> BroadcastDraft:
    draft = draft.normalised()
    problems = check_broadcast(session, draft)
    if problems:
        raise BroadcastInvalid(problems)
    return draft


def _values(draft: BroadcastDraft) -> dict:
    values = {name: getattr(draft, name) for name in DRAFT_FIELDS}
    values["channels"] = list(draft.channels)
    return values


def _audit_view(broadcast: Broadcast) -> dict:
    view = {name: getattr(broadcast, name) for name in DRAFT_FIELDS}
    view.update(status=broadcast.status, channels=list(broadcast.channels or ()))
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view.items()}


def create_broadcast(session: Session, draft: BroadcastDraft, *, actor: audit.Actor, now: datetime) -> Broadcast:
    draft = _validated(session, draft)
    broadcast = Broadcast(**_values(draft), status="draft", created_by=actor.label, created_at=now,
                          targeted=0, held_out=0)
    session.add(broadcast)
    session.flush()
    audit.record(session, actor, "broadcasts.create", "broadcast", broadcast.id, now=now,
                 after=_audit_view(broadcast))
    return broadcast


def update_broadcast(session: Session, broadcast_id: int, draft: BroadcastDraft, *, actor: audit.Actor,
                     now: datetime) -> Broadcast:
    broadcast = locked(session, broadcast_id)
    require(broadcast, EDITABLE)
    draft = _validated(session, draft)
    before = _audit_view(broadcast)
    for name, value in _values(draft).items():
        setattr(broadcast, name, value)
    session.flush()
    audit.record(session, actor, "broadcasts.update", "broadcast", broadcast.id, now=now,
                 before=before, after=_audit_view(broadcast))
    return broadcast


def schedule_broadcast(session: Session, broadcast_id: int, *, actor: audit.Actor, now: datetime,
                       send_now: bool = False) -> Broadcast:
    """Draft → scheduled: at its `scheduled_at` (which must be ahead), or now
    (`send_now`, also from scheduled). The minute cron starts due ones; for
    `send_now` the caller enqueues the job after committing."""
    broadcast = locked(session, broadcast_id)
    require(broadcast, ("draft", "scheduled") if send_now else EDITABLE)
    _validated(session, draft_of(broadcast))
    before = _audit_view(broadcast)
    if send_now:
        broadcast.scheduled_at = now
    elif broadcast.scheduled_at is None or broadcast.scheduled_at <= now:
        raise BroadcastInvalid([Problem("scheduled_at", "broadcast_schedule_past")])
    broadcast.status = "scheduled"
    audit.record(session, actor, "broadcasts.send_now" if send_now else "broadcasts.schedule", "broadcast",
                 broadcast.id, now=now, before=before, after=_audit_view(broadcast))
    return broadcast


def cancel_broadcast(session: Session, broadcast_id: int, *, actor: audit.Actor, now: datetime) -> Broadcast:
    broadcast = locked(session, broadcast_id)
    require(broadcast, CANCELLABLE)
    before = _audit_view(broadcast)
    broadcast.status, broadcast.finished_at = "cancelled", now
    audit.record(session, actor, "broadcasts.cancel", "broadcast", broadcast.id, now=now,
                 before=before, after=_audit_view(broadcast))
    return broadcast


def draft_of(broadcast: Broadcast) -> BroadcastDraft:
    values = {name: getattr(broadcast, name) for name in DRAFT_FIELDS}
    values["channels"] = tuple(broadcast.channels or ())
    return BroadcastDraft(**values)


def locked(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update()
                               .execution_options(populate_existing=True))
    if broadcast is None:
        raise NotFound("Broadcast not found.", broadcast_id=broadcast_id)
    return broadcast


def require(broadcast: Broadcast, statuses) -> None:
    if broadcast.status not in statuses:
        raise BroadcastStateConflict(f"The broadcast is {broadcast.status}.", status=broadcast.status)


# -- previewing ----------------------------------------------------------------------


def message_params(broadcast: Broadcast | BroadcastDraft, broadcast_id: int | None = None) -> dict:
    """What every outbox row of the broadcast carries: the staff's texts per
    language (worded per member by `render.own_text`)."""
    params = {name: getattr(broadcast, name) for name in TEXT_FIELDS}
    params["broadcast"] = broadcast_id if broadcast_id is not None else getattr(broadcast, "id", None)
    return params


def sample_member(session: Session, segment_id: int | None, now: datetime) -> Member | None:
    """The first member of the audience (by id), for the preview."""
    first = segments.audience(session, segment_id, now).order_by(None).subquery()
    return session.scalar(select(Member).where(Member.id == select(first.c[0]).order_by(first.c[0])
                                               .limit(1).scalar_subquery()))


def preview(broadcast: Broadcast | BroadcastDraft, member: Member | None, config: Mapping,
            locale: str) -> Outgoing:
    """The message as `member` (or a member with no name) would get it by e-mail
    in `locale`; raises what wording it raises (a template a form let through)."""
    reader = Member(id=member.id if member else 0, display_name=member.display_name if member else None,
                    locale=locale, email=member.email if member else None)
    row = OutboxMessage(id=0, channel="email", kind=KIND, category="marketing",
                        params=message_params(broadcast, 0))
    return render.render(row, reader, config, render.Text("", ""), to=reader.email or "")


# -- reading -----------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceSplit:
    members: int
    held_out: int

    @property
    def messaged(self) -> int:
        return self.members - self.held_out


def audience_split(session: Session, segment_id: int | None, percent: int, now: datetime) -> AudienceSplit:
    """How the audience would divide if the broadcast went out now."""
    members = segments.count(session, segment_id, now)
    return AudienceSplit(members, held_out_count(members, percent))


def broadcast_list(session: Session, *, limit: int = 200) -> list[Broadcast]:
    order = case((Broadcast.status.in_(("sending", "scheduled")), 0), (Broadcast.status == "draft", 1), else_=2)
    return list(session.scalars(select(Broadcast).order_by(order, Broadcast.id.desc()).limit(limit)))
