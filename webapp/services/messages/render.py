"""Wording a message for its member: the kind's template in the member's language,
run in a sandboxed Jinja with undefined names refused, so a template cannot run
code and a missing variable fails loudly instead of sending a blank."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache, lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, pass_context
from jinja2.sandbox import SandboxedEnvironment

from webapp.club import club_of
from webapp.i18n import format_date, format_datetime, format_money, format_number
from webapp.models import Member, OutboxMessage
from webapp.services.messages import email_layout, links
from webapp.services.messages.catalog import kind_of
from webapp.services.messages.channels import Outgoing
from webapp.services.messages.policy import MessagingSettings
from webapp.services.messages.texts import Text

# every template may use these; a kind adds its own (`catalog.Kind.variables`)
COMMON_VARIABLES = ("name", "club", "link", "locale")
DEFAULT_NAME = {"fa": "عضو باشگاه", "en": "member"}
DEFAULT_CLUB = {"fa": "باشگاه وفا", "en": "Vafa club"}
# where a message leads when its params name no page
DEFAULT_PATH = "/me/inbox"


def _when(value) -> datetime | date | None:
    if isinstance(value, (datetime, date)) or value is None:
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if "T" in str(value) or " " in str(value) else parsed.date()


@pass_context
def _number(ctx, value) -> str:
    return format_number(int(value), ctx["locale"])


@pass_context
def _money(ctx, value) -> str:
    return format_money(int(value), ctx["currency"], ctx["locale"])


@pass_context
def _date(ctx, value) -> str:
    return format_date(_when(value), ctx["locale"], ctx["timezone"])


@pass_context
def _datetime(ctx, value) -> str:
    return format_datetime(_when(value), ctx["locale"], ctx["timezone"])


@cache
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(number=_number, money=_money, date=_date, datetime=_datetime)
    return env


class TemplateProblem(ValueError):
    """A template that cannot be used: `variable` names the unknown one."""

    def __init__(self, message: str, variable: str | None = None):
        super().__init__(message)
        self.variable = variable


def check(kind: str, source: str) -> None:
    """Refuse a template that does not parse or uses a name its kind lacks."""
    try:
        parsed = environment().parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"line {exc.lineno}: {exc.message}") from None
    known = set(COMMON_VARIABLES) | set(kind_of(kind).variables)
    unknown = sorted(meta.find_undeclared_variables(parsed) - known)
    if unknown:
        raise TemplateProblem(f"unknown variable: {unknown[0]}", unknown[0])


@lru_cache(maxsize=1024)
def _compiled(source: str):
    # compiling costs more than rendering: a batch words thousands of messages from a few templates
    return environment().from_string(source)


def fill(source: str, variables: Mapping) -> str:
    return _compiled(source).render(**variables).strip()


def member_locale(member: Member, config: Mapping) -> str:
    locale = member.locale or club_of(config).locale
    return locale if locale in ("fa", "en") else "en"


def in_locale(params: Mapping, stem: str, locale: str) -> str:
    """A text stored in both languages (`<stem>_fa`/`<stem>_en`, or `fa`/`en`),
    in `locale`; the other language when that one is empty."""
    first, second = (f"{stem}_{lang}" if stem else lang for lang in (locale, "en" if locale == "fa" else "fa"))
    return str(params.get(first) or params.get(second) or "")


def variables(row: OutboxMessage, member: Member, config: Mapping, locale: str) -> dict:
    club = club_of(config)
    params = dict(row.params or {})
    link = params.pop("link", None) or links.absolute(config, params.get("path") or DEFAULT_PATH)
    for variable, stem in kind_of(row.kind).localized:
        text = in_locale(params, stem, locale)
        if text or variable not in params:  # a cause that stored one plain text keeps it
            params[variable] = text
    return {
        **params,
        "name": member.display_name or DEFAULT_NAME[locale],
        "club": club.name or DEFAULT_CLUB[locale],
        "link": link,
        "locale": locale,
        "currency": club.currency,
        "timezone": club.timezone,
    }


def own_text(params, locale: str) -> Text | None:
    """A message that brings its own wording (a broadcast: the staff's subject and
    body per language, in params `subject_<locale>`/`body_<locale>`) is worded from
    it, in the same sandbox, instead of from its kind's template."""
    params = params if isinstance(params, dict) else {}
    body = params.get(f"body_{locale}") or params.get("body_en")
    if not isinstance(body, str):
        return None
    subject = params.get(f"subject_{locale}") or params.get("subject_en") or ""
    return Text(str(subject), body)


def fill_own(text: Text, values: Mapping) -> Text:
    """Staff's own subject and body filled for one member; the body may use the subject."""
    subject = fill(text.subject, {**values, "subject": "", "body": ""})
    return Text(subject, fill(text.body, {**values, "subject": subject, "body": ""}))


def render(row: OutboxMessage, member: Member, config: Mapping, text: Text, *, to: str,
           tracking: MessagingSettings | None = None) -> Outgoing:
    """The message for `row`'s channel; e-mail in its layout (HTML and text).
    `tracking` (the club's settings, when delivering) turns on the open pixel
    and the click redirect of e-mail and push; essential messages never get them."""
    locale = member_locale(member, config)
    values = variables(row, member, config, locale)
    own = own_text(row.params, locale)
    if own is not None:
        filled = fill_own(own, values)
        values.update(subject=filled.subject, body=filled.body)
        text = Text("{{ subject }}", "{{ body }}")
    category = kind_of(row.kind).category
    track = tracking if tracking is not None and row.id is not None and category != "essential" else None
    url = values["link"]
    if track is not None and track.track_clicks and row.channel in ("email", "push"):
        url = links.click_url(config, row.id, url)
    message = Outgoing(
        id=row.id, channel=row.channel, kind=row.kind, category=category, member_id=member.id, to=to,
        locale=locale, subject=fill(text.subject, values), text=fill(text.body, values), url=url,
        unsubscribe_url=(None if category in ("essential", "transactional")
                         else links.unsubscribe_url(config, member.id, row.channel)),
    )
    if row.channel != "email":
        return message
    pixel = links.open_url(config, row.id) if track is not None and track.track_opens else None
    return email_layout.dress(message, club=values["club"], pixel_url=pixel)
