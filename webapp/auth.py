"""Who is signed in. One Flask-Login session holds a member, a staff or a
marketer account; its id is the account's revocable session token, prefixed by kind."""

from __future__ import annotations

from functools import cache, wraps
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import defer

from webapp.extensions import db, login_manager
from webapp.models import InboxMessage, Marketer, Member, Staff
from webapp.services import config_cache


@login_manager.user_loader
def load_account(session_id: str):
    kind, _, token = (session_id or "").partition(":")
    model = {"m": Member, "s": Staff, "k": Marketer}.get(kind)
    if model is None or not token:
        return None
    if model is Member:
        return _load_member(token)
    # the configuration's version rides along: the request's first query says
    # whether this process's cached configuration is still the club's
    row = db.session.execute(select(model, config_cache.version_column())
                             .where(model.session_token == token)).first()
    if row is None or not row[0].is_active:
        return None
    config_cache.remember_version(db.session, row[1])
    return row[0]


def _load_member(token: str) -> Member | None:
    """The member and what every member page's frame shows, in one query: the
    unread badge, whether they are a marketer, the configuration's version.
    The password hash stays in the database until a sign-in asks for it."""
    row = db.session.execute(_member_query(), {"token": token}).first()
    if row is None or not row[0].is_active:
        return None
    member, g.vafa_unread, g.vafa_is_marketer, version = row
    config_cache.remember_version(db.session, version)
    return member


@cache
def _member_query():
    # built once: every member request runs it, and building it cost more than its SQL
    unread = (select(func.count()).select_from(InboxMessage)
              .where(InboxMessage.member_id == Member.id, InboxMessage.read_at.is_(None))
              .scalar_subquery())
    marketer = select(Marketer.id).where(Marketer.member_id == Member.id, Marketer.status == "active").exists()
    return (select(Member, unread, marketer, config_cache.version_column())
            .where(Member.session_token == bindparam("token")).options(defer(Member.password_hash)))


def current_member() -> Member | None:
    user = current_user
    if user and user.is_authenticated and user.is_member:
        return user._get_current_object() if hasattr(user, "_get_current_object") else user
    return None


def member_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.is_member):
            return redirect(url_for("member.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def staff_required(capability: str = "view"):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not (current_user.is_authenticated and current_user.is_staff):
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            if not current_user.can(capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths: no scheme, no host, no `//evil` or `/\\evil`."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return default
    if target.startswith("//") or target.startswith("/\\") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return target
