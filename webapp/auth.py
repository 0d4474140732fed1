"""Who is signed in. One Flask-Login session holds a member, a staff or a
marketer account; its id is the account's revocable session token, prefixed by kind."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db, login_manager
from webapp.models import Marketer, Member, Staff


@login_manager.user_loader
def load_account(session_id: str):
    kind, _, token = (session_id or "").partition(":")
    model = {"m": Member, "s": Staff, "k": Marketer}.get(kind)
    if model is None or not token:
        return None
    account = db.session.scalar(select(model).where(model.session_token == token))
    if account is None or not account.is_active:
        return None
    return account


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
