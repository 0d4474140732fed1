"""The member's inbox: `/me/inbox` (newest first, htmx "load more" beside a plain
link) and marking messages read (a CSRF-protected POST; htmx swaps the message
and updates the unread badge in the navigation out of band).

Only `current_member()`'s messages are ever read or changed: the service filters
by member, and a message id of someone else's is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from webapp.auth import current_member, member_required
from webapp.extensions import db
from webapp.htmx import is_htmx
from webapp.i18n import current_locale, localized_key
from webapp.member import bp
from webapp.member.tiers import level_names
from webapp.models import InboxMessage, utcnow
from webapp.services import tiers
from webapp.services.members import inbox as inbox_service
from webapp.services.messages import render
from webapp.services.messages.texts import Text
from webapp.transaction import commits, reread

PAGE = 20
MAX_ID = 2**63 - 1
# one small template per message kind; kinds added later without a template
# (or unknown to this version) are shown by the generic one
KIND_TEMPLATES = {
    kind: f"_partials/inbox_{kind}.html"
    for kind in ("tier_upgrade", "tier_downgrade", "tier_at_risk", "points_expiring",
                 "fee_rebate", "credit_converted", "campaign", "challenge_completed",
                 "raffle_won", "referral_board_prize", "broadcast")
}
KIND_TEMPLATES["survey"] = "_partials/inbox_survey.html"  # its score links answer in one tap
KIND_TEMPLATES["feedback_reply"] = "_partials/inbox_feedback_reply.html"
GENERIC_TEMPLATE = "_partials/inbox_generic.html"


class MarkReadForm(FlaskForm):
    # absent: every unread message of the member
    message = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


@dataclass(frozen=True)
class InboxPage:
    messages: list[InboxMessage]
    next_before: int | None


@bp.get("/me/inbox")
@member_required
def inbox():
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before <= MAX_ID else None
    rows = inbox_service.member_messages(db.session, current_member().id, before_id=before, limit=PAGE + 1)
    page = InboxPage(rows[:PAGE], rows[PAGE - 1].id if len(rows) > PAGE else None)
    program = tiers.load_program(db.session)
    context = {"page": page, "before": before, "program": program, "names": level_names(program)}
    if is_htmx():
        return render_block("member/inbox.html", "messages", **context)
    return render_template("member/inbox.html", **context)


@bp.post("/me/inbox/read")
@member_required
@commits
def inbox_read():
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort(400)
    member, ids = current_member(), [form.message.data] if form.message.data else None
    inbox_service.mark_read(db.session, member_id=member.id, message_ids=ids, now=utcnow())
    reread()
    if not (is_htmx() and ids):
        return redirect(url_for(".inbox"))
    message = db.session.get(InboxMessage, ids[0])
    if message is None or message.member_id != member.id:
        abort(404)
    program = tiers.load_program(db.session)
    return render_template("_partials/inbox_marked.html", message=message, program=program,
                           names=level_names(program))


# -- for the templates ---------------------------------------------------------------


def inbox_template(kind: str) -> str:
    return KIND_TEMPLATES.get(kind, GENERIC_TEMPLATE)


def inbox_unread() -> int:
    """The unread count for the navigation badge, once per request."""
    if "vafa_unread" not in g:
        member = current_member()
        g.vafa_unread = inbox_service.unread_count(db.session, member.id) if member else 0
    return g.vafa_unread


def _param(params, name: str):
    return params.get(name) if isinstance(params, dict) else None


def param_int(params, name: str) -> int:
    """Messages are stored data: a missing or odd parameter shows as 0, never a 500."""
    try:
        return int(_param(params, name) or 0)
    except (TypeError, ValueError):
        return 0


def param_when(params, name: str) -> datetime | date | None:
    value = _param(params, name)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # a bare ISO date is a day; a naive datetime was written in UTC
    if len(value) <= 10:
        return parsed.date()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def param_text(params, name: str) -> str | None:
    value = _param(params, name)
    return str(value) if value not in (None, "") else None


def param_localized(params, field: str) -> str | None:
    """A text the sender stored in both languages, in the reader's; the English
    one when the reader's is missing."""
    return param_text(params, localized_key(field)) or param_text(params, f"{field}_en")


def own_words(message) -> Text | None:
    """A message that brought its own wording (a broadcast: staff's subject and
    body, templates themselves) worded for the reader, by the sandbox that words
    its e-mails; None when it cannot be (the generic words show instead)."""
    member, locale = current_member(), current_locale()
    own = render.own_text(message.params, locale)
    if own is None or member is None:
        return None
    try:
        return render.fill_own(own, render.variables(message, member, current_app.config, locale))
    except Exception:  # stored data worded by a sandbox: never a 500 in the inbox
        return None


@bp.app_context_processor
def _inbox_words() -> dict:
    return {"inbox_template": inbox_template, "inbox_unread": inbox_unread, "param_int": param_int,
            "param_when": param_when, "param_text": param_text,
            "param_localized": param_localized, "own_words": own_words}
