"""Which wording a message kind uses in a locale: the shipped default until staff
edit it in `/admin/messages/templates`; and staff's changes to the wordings and
to the channels each kind goes to (every change audited)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from jinja2 import TemplateSyntaxError, nodes
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import CHANNELS, ClubSetting, Member, MessageTemplate, OutboxMessage
from webapp.services.errors import DomainError
from webapp.services.members import audit
from webapp.services.messages import render as wording
from webapp.services.messages.catalog import (
    INBOX_KEPT,
    KINDS,
    SETTING,
    ChannelSwitches,
    channels_for,
    kind_of,
)
from webapp.services.messages.channels.sms import count_segments
from webapp.services.messages.samples import sample_params
from webapp.services.messages.texts import Text, default_text
from webapp.services.settings import load_setting

LOCALES = ("fa", "en")
MAX_SUBJECT = 200
MAX_BODY = 5000
SAMPLE_NAME = {"fa": "سارا", "en": "Sara"}


def template_for(session: Session, kind: str, locale: str) -> Text:
    """Staff's wording if there is one (one read on the (kind, locale) index), else the default."""
    row = session.execute(
        select(MessageTemplate.subject, MessageTemplate.body)
        .where(MessageTemplate.kind == kind, MessageTemplate.locale == locale)
    ).first()
    return Text(row.subject, row.body) if row is not None else default_text(kind, locale)


def overridden(session: Session) -> set[tuple[str, str]]:
    """(kind, locale) pairs staff have reworded."""
    return {(kind, locale) for kind, locale in session.execute(select(MessageTemplate.kind, MessageTemplate.locale))}


class TemplateRefused(DomainError):
    """A wording that cannot be used; `field` is subject or body, `variable` the unknown name."""

    code = "template_refused"

    def __init__(self, field: str, problem: wording.TemplateProblem):
        super().__init__(str(problem), field=field, variable=problem.variable)
        self.field, self.problem = field, problem


def editable(kind: str, locale: str) -> None:
    if kind not in KINDS or locale not in LOCALES:
        raise DomainError("Unknown message kind or language.", kind=kind, locale=locale)


# what a message may be made of: text, variables, filters, conditions. No loops,
# macros, calls, item access or arithmetic: nothing staff type can run long or
# grow large (`{{ 'x' * 10**9 }}`, nested loops), on top of the sandbox
ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Filter,
                 nodes.Test, nodes.If, nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.And, nodes.Or,
                 nodes.Not, nodes.Concat, nodes.Keyword)
MAX_NUMBER = 10_000


def allowed(source: str) -> None:
    """Refuse what `ALLOWED_NODES` leaves out (TemplateProblem naming it)."""
    try:
        parsed = wording.environment().parse(source)
    except TemplateSyntaxError as exc:
        raise wording.TemplateProblem(f"line {exc.lineno}: {exc.message}") from None
    for node in parsed.find_all(nodes.Node):
        if not isinstance(node, ALLOWED_NODES):
            raise wording.TemplateProblem(f"not allowed in a message: {type(node).__name__}")
        if isinstance(node, nodes.Const) and isinstance(node.value, (int, float)) and abs(node.value) > MAX_NUMBER:
            raise wording.TemplateProblem(f"number too large: {node.value}")


def check_text(kind: str, locale: str, text: Text, config: Mapping | None = None) -> tuple[str, str]:
    """Both parts parse, use only the kind's variables (`render.check`) and render
    with the kind's sample params (the sandbox refuses `''.__class__` and the
    like only when rendering). Returns the rendered subject and body."""
    values = sample_values(kind, locale, config or {})
    rendered = []
    for field, source, limit in (("subject", text.subject, MAX_SUBJECT), ("body", text.body, MAX_BODY)):
        if not source.strip():
            raise TemplateRefused(field, wording.TemplateProblem("empty"))
        if len(source) > limit:
            raise TemplateRefused(field, wording.TemplateProblem(f"longer than {limit} characters"))
        try:
            wording.check(kind, source)
            allowed(source)
            rendered.append(wording.fill(source, values))
        except wording.TemplateProblem as problem:
            raise TemplateRefused(field, problem) from None
        except Exception as exc:  # noqa: BLE001  (SecurityError, a filter given text …: refused, never a 500)
            raise TemplateRefused(field, wording.TemplateProblem(f"{type(exc).__name__}: {exc}"[:300])) from None
    return rendered[0], rendered[1]


def sample_values(kind: str, locale: str, config: Mapping) -> dict:
    row = OutboxMessage(kind=kind, channel="email", params=sample_params(kind))
    member = Member(display_name=SAMPLE_NAME.get(locale, ""), locale=locale)
    return wording.variables(row, member, config, locale)


def save_template(session: Session, kind: str, locale: str, text: Text, *, actor: audit.Actor,
                  now: datetime) -> MessageTemplate:
    editable(kind, locale)
    check_text(kind, locale, text)
    before = template_for(session, kind, locale)
    row = session.scalar(select(MessageTemplate).where(MessageTemplate.kind == kind,
                                                       MessageTemplate.locale == locale))
    if row is None:
        row = MessageTemplate(kind=kind, locale=locale)
        session.add(row)
    row.subject, row.body, row.updated_by, row.updated_at = text.subject, text.body, actor.label, now
    session.flush()
    audit.record(session, actor, "messages.template_save", "message_template", f"{kind}:{locale}", now=now,
                 before={"subject": before.subject, "body": before.body},
                 after={"subject": text.subject, "body": text.body})
    return row


def reset_template(session: Session, kind: str, locale: str, *, actor: audit.Actor, now: datetime) -> bool:
    """Back to the shipped default; False when there was nothing to reset."""
    editable(kind, locale)
    row = session.scalar(select(MessageTemplate).where(MessageTemplate.kind == kind,
                                                       MessageTemplate.locale == locale))
    if row is None:
        return False
    default = default_text(kind, locale)
    audit.record(session, actor, "messages.template_reset", "message_template", f"{kind}:{locale}", now=now,
                 before={"subject": row.subject, "body": row.body},
                 after={"subject": default.subject, "body": default.body})
    session.delete(row)
    session.flush()
    return True


def switchable(kind: str) -> tuple[str, ...]:
    """The channels staff may switch for a kind: none for sign-in codes and
    resets (a member must never be locked out), all but the inbox where the
    inbox is the member's only record."""
    if kind_of(kind).category == "essential":
        return ()
    return tuple(c for c in CHANNELS if not (c == "inbox" and kind in INBOX_KEPT))


def set_channels(session: Session, kind: str, chosen: tuple[str, ...], *, actor: audit.Actor,
                 now: datetime) -> tuple[str, ...]:
    """Switch the kind's channels (ClubSetting `message_channels`, read by `catalog.channels_for`)."""
    if kind not in KINDS or not switchable(kind):
        raise DomainError("These messages cannot be switched.", kind=kind)
    current = channels_for(session, kind)
    kept = tuple(c for c in current if c not in switchable(kind))
    wanted = tuple(c for c in CHANNELS if c in kept or (c in chosen and c in switchable(kind)))
    if wanted != current:
        kinds = dict(load_setting(session, SETTING, ChannelSwitches).kinds or {})
        kinds[kind] = list(wanted)
        row = session.get(ClubSetting, SETTING)
        if row is None:
            session.add(ClubSetting(key=SETTING, value=asdict(ChannelSwitches(kinds)), updated_at=now))
        else:
            row.value, row.updated_at = asdict(ChannelSwitches(kinds)), now
        session.flush()
        audit.record(session, actor, "messages.channels", "message_kind", kind, now=now,
                     before={"channels": list(current)}, after={"channels": list(wanted)})
    return wanted


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    sms_length: int
    sms_parts: int


def preview(kind: str, locale: str, text: Text, config: Mapping) -> Preview:
    """The wording with the kind's sample params, as a member would read it;
    raises TemplateRefused for what `save_template` would refuse."""
    editable(kind, locale)
    subject, body = check_text(kind, locale, text, config)
    return Preview(subject, body, len(body), count_segments(body).count if body else 0)
