"""The floor page: the least a signed-in member page can cost on this stack.

    gunicorn -w 2 --chdir bench "floor_app:create_floor_app()"
    (env: DATABASE_URL, SECRET_KEY, BENCH_FLOOR_BYTES; bench/pages.py starts it)

One view: decode the signed Flask session cookie the app set at /login (same
SECRET_KEY, so it pays for session decoding like the app), read the member's row
and last 10 ledger entries with ONE indexed query (member by its unique session
token, LEFT JOIN LATERAL the last 10 entries by the (member_id, currency, id)
index) on an engine from webapp.db.make_engine (same pool settings as the app),
and render a Jinja page padded to BENCH_FLOOR_BYTES bytes (the size of the app's
/me for that member). PostgreSQL only (LATERAL).
"""

from __future__ import annotations

import os

from flask import Flask, abort, session
from sqlalchemy import text

from webapp.db import make_engine

LAST_TEN = text("""
    SELECT m.id, m.display_name, m.points_balance, m.credit_balance,
           e.currency, e.amount, e.kind, e.created_at
    FROM member m
    LEFT JOIN LATERAL (
        SELECT currency, amount, kind, created_at, id FROM ledger_entry
        WHERE member_id = m.id ORDER BY id DESC LIMIT 10
    ) e ON true
    WHERE m.session_token = :token AND m.status = 'active'
    ORDER BY e.id DESC
""")

PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>{{ member.display_name }}</title></head>
<body><main><h1>{{ member.display_name }}</h1>
<p>{{ member.points_balance }} امتیاز · {{ member.credit_balance }} اعتبار</p>
<ul>{% for e in entries %}<li>{{ e.created_at.strftime("%Y-%m-%d %H:%M") }} {{ e.kind }}
 {{ e.amount }} {{ e.currency }}</li>{% endfor %}</ul></main>
<!--{{ pad }}--></body></html>"""


def create_floor_app() -> Flask:
    app = Flask("floor")
    app.secret_key = os.environ["SECRET_KEY"]
    engine = make_engine(os.environ["DATABASE_URL"])
    target = int(os.environ.get("BENCH_FLOOR_BYTES", "0"))
    page = app.jinja_env.from_string(PAGE)  # compiled once, as the app's templates are cached
    pads: dict[int, str] = {}  # member id → padding that brings the page to `target` bytes

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.get("/floor")
    def floor():
        kind, _, token = (session.get("_user_id") or "").partition(":")
        if kind != "m" or not token:
            abort(401)
        with engine.connect() as conn:
            rows = conn.execute(LAST_TEN, {"token": token}).all()
        if not rows:
            abort(401)
        member = rows[0]
        entries = [r for r in rows if r.amount is not None]
        pad = pads.get(member.id)
        if pad is None:  # once per process: the page's own size sets the padding
            bare = len(page.render(member=member, entries=entries, pad="").encode())
            pad = pads[member.id] = "x" * max(0, target - bare)
        return page.render(member=member, entries=entries, pad=pad)

    return app
