"""The club a request or job serves: its time zone, language, currency and name.

Built once per app context and once per request from the configuration
(`VAFA_TIMEZONE`, `VAFA_LOCALE`, `VAFA_CURRENCY`, `VAFA_CLUB_NAME`), and the one
way views, jobs, templates (`club`) and services get these. Services take the
club (or its fields, e.g. `tz=`) as an argument; where a deep call chain has no
argument yet they ask `current_club()`, never Flask's `current_app`.

The program settings the owner edits (earn rate, wallet conversion, tiers) stay
in their own services: they are rows, read in the transaction that uses them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, appcontext_pushed, g, request_started, request_tearing_down

DEFAULT_TIMEZONE = "Asia/Tehran"
DEFAULT_LOCALE = "fa"
DEFAULT_CURRENCY = "IRR"


@dataclass(frozen=True)
class Club:
    timezone: str = DEFAULT_TIMEZONE  # IANA name: the club's days, weeks and months
    locale: str = DEFAULT_LOCALE  # the language of members who chose none
    currency: str = DEFAULT_CURRENCY  # ISO code; amounts are in its smallest unit
    name: str = ""  # empty: the templates say "Vafa club"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def club_of(config: Mapping) -> Club:
    return Club(
        timezone=config.get("VAFA_TIMEZONE") or DEFAULT_TIMEZONE,
        locale=config.get("VAFA_LOCALE") or DEFAULT_LOCALE,
        currency=config.get("VAFA_CURRENCY") or DEFAULT_CURRENCY,
        name=config.get("VAFA_CLUB_NAME") or "",
    )


_serving: ContextVar[Club | None] = ContextVar("vafa_club", default=None)


def current_club() -> Club:
    """The club being served; the defaults outside a request or job (pure tests)."""
    return _serving.get() or Club()


@contextmanager
def serving(club: Club) -> Iterator[Club]:
    """Serve `club` for the block (a CLI command, a test with another zone)."""
    token = _serving.set(club)
    try:
        yield club
    finally:
        _serving.reset(token)


def _tokens(scope: str) -> list[Token]:
    return g.setdefault(f"_vafa_club_{scope}", [])


def _enter_app(sender: Flask, **_extra) -> None:
    _tokens("app").append(_serving.set(club_of(sender.config)))


def _enter_request(sender: Flask, **_extra) -> None:
    _tokens("request").append(_serving.set(club_of(sender.config)))


def _leave(scope: str) -> None:
    tokens = _tokens(scope)
    if tokens:
        _serving.reset(tokens.pop())


def _leave_request(sender: Flask, **_extra) -> None:
    _leave("request")


def init_app(app: Flask) -> None:
    # per request too: an app context a test keeps open is reused by requests,
    # and the configuration may have changed since it was pushed
    appcontext_pushed.connect(_enter_app, app)
    request_started.connect(_enter_request, app)
    request_tearing_down.connect(_leave_request, app)
    app.teardown_appcontext(lambda _exc: _leave("app"))
    app.context_processor(lambda: {"club": current_club()})
