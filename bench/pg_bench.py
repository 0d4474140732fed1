"""What the PostgreSQL bench scripts share: the app on a throwaway database."""

from __future__ import annotations

import os
import sys


def throwaway_app(fresh: bool):
    """The app on DATABASE_URL, a PostgreSQL database the bench may fill, its
    schema upgraded (or dropped and re-created with `fresh`). Exits with a
    one-line reason when DATABASE_URL is not PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        print("error: set DATABASE_URL to a PostgreSQL database you can throw away", file=sys.stderr)
        sys.exit(2)
    from webapp import create_app
    from webapp.migrate import rebuild, upgrade

    rebuild(url) if fresh else upgrade(url)
    return create_app({"DATABASE_URL": url})
