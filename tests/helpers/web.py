"""Driving the site like a browser: forms with their CSRF token, signing staff in,
reading a page as text, and a short database look-up next to client requests."""

from __future__ import annotations

import re

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the smallest upload the image check accepts


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on `url`, read from the page like a browser would."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken":\s*"([^"]+)"', html
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Submit a form the way a browser does: load it, then post with its token."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def sign_in_staff(client, staff):
    """Sign a staff member (from `make_staff`) in through the login form."""
    return post_form(client, "/admin/login", {"email": staff.email, "password": staff.plain_password},
                     form_url="/admin/login")


MEMBER_PASSWORD = "a-good-password-1"


def log_in(client, email: str, password: str = MEMBER_PASSWORD):
    """Sign a member in through /login; the answer is the redirect."""
    response = post_form(client, "/login", {"login": email, "password": password})
    assert response.status_code == 302
    return response


def sign_in_new_member(client, make_member, points: int = 0, **kw):
    """A new member with `points`, signed in on `client`."""
    member = make_member(password=MEMBER_PASSWORD, points=points, **kw)
    log_in(client, member.email)
    return member


def form_token(html: str) -> str:
    """The one-time `token` field of a play or redeem form (its request key)."""
    return re.search(r'name="token"[^>]*value="([^"]+)"', html).group(1)


def in_db(app, fn):
    """`fn(session)` in a short app context of its own (not the one a client request uses)."""
    from webapp.extensions import db

    with app.app_context():
        return fn(db.session)


def text(html: str) -> str:
    """The page's words: tags dropped, runs of white space made one (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
