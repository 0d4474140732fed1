"""The invite landing page /r/<code>, in process (Flask's test client, one
thread, no network): milliseconds and SQL statements per request for a new
device (an open is recorded), the same device again (counted once: the insert
finds its row) and a messenger's preview fetcher (no open, no cookies).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vafa_bench python bench/invite_landing.py

Upgrades the schema, adds one member (`bench-invite-…`) and leaves the opens it
made behind (a throwaway database)."""

from __future__ import annotations

import argparse
import os
import secrets
import time
from datetime import UTC, datetime

from sqlalchemy import event

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
BOT = "TelegramBot (like TwitterBot)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=500, help="requests per case")
    args = parser.parse_args()

    from webapp import create_app
    from webapp.extensions import db
    from webapp.migrate import upgrade
    from webapp.services.members.accounts import create_member, normalise_identifiers

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Set DATABASE_URL to a database you can throw away.")
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SESSION_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        member = create_member(db.session, ids=normalise_identifiers(f"bench-invite-{secrets.token_hex(4)}@example.com",
                                                                     None),
                               password=None, display_name="Sara", now=datetime.now(UTC))
        db.session.commit()
        code = member.referral_code
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def run(name: str, make_client, user_agent: str) -> None:
        client = make_client()
        client.get(f"/r/{code}", headers={"User-Agent": user_agent})  # warm up
        statements.clear()
        started = time.perf_counter()
        for _ in range(args.n):
            client = make_client()
            response = client.get(f"/r/{code}", headers={"User-Agent": user_agent})
            assert response.status_code == 200, response.status_code
        elapsed = time.perf_counter() - started
        print(f"{name:<24} {elapsed * 1000 / args.n:6.2f} ms/request  "
              f"{len(statements) / args.n:4.1f} SQL statements/request")

    shared = app.test_client()
    run("new device (counted)", app.test_client, PHONE)
    run("same device again", lambda: shared, PHONE)
    run("preview fetcher (bot)", app.test_client, BOT)


if __name__ == "__main__":
    main()
