"""Many requests at once: each thread has its own session and connection
(`db.session` is thread-scoped), as web workers do. Tests using this commit for
real: mark them `real_commits`."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

THREADS = 50


def run_together(app, count: int, work):
    """Run `work(i)` in `count` threads released at the same moment; each thread
    commits or rolls back its own session and removes it at the end."""
    from webapp.extensions import db

    barrier = threading.Barrier(count)

    def one(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                result = work(i)
                db.session.commit()
                return result
            except Exception as exc:  # noqa: BLE001  the outcome is what we count
                db.session.rollback()
                return exc
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))
