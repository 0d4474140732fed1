"""The web part of `vafa run`: gunicorn inside the `vafa run` process.

gunicorn's custom-application API (`BaseApplication`) keeps its arbiter in this
process, so the process that started the embedded Redis and the worker and
scheduler children stays their parent; gunicorn's workers are forked from it."""

from __future__ import annotations

import os
import socket
import sys

from gunicorn.app.base import BaseApplication


def default_web_workers() -> int:
    """`VAFA_WEB_WORKERS`, else gunicorn's 2 × cores + 1 capped at 4: this box also
    runs the RQ worker, the scheduler and Redis, and SQLite takes one writer at a time,
    so more processes than that only queue on the same locks. At least 3 on any
    machine, so one slow export never makes the club wait."""
    configured = os.environ.get("VAFA_WEB_WORKERS", "").strip()
    if configured:
        return int(configured)
    return min(2 * (os.cpu_count() or 1) + 1, 4)


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here: a port in use is then one OSError at once,
    not gunicorn's five retries and log lines. Raises OSError."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=2048)


class ClubServer(BaseApplication):
    """gunicorn serving an app already built in this process, on a socket already bound."""

    def __init__(self, app, sock: socket.socket, workers: int):
        self.application = app
        # gunicorn takes the descriptor over (and closes it once wrapped): let go of it
        self.options = {
            "bind": [f"fd://{sock.detach()}"],
            "workers": workers,
            "worker_class": "sync",
            "loglevel": "warning",  # the club's own lines (URL, logins) stay readable
            "accesslog": None,
            "proc_name": "vafa",
            "graceful_timeout": 10,
            # gunicorn 27's control socket lives at one path per user: two clubs on one
            # machine (or parallel tests) would fight over it, and nothing here uses it
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def serve(app, sock: socket.socket, workers: int) -> None:
    """Serve until gunicorn's arbiter stops (SIGINT/SIGTERM); raises its SystemExit.

    A gunicorn worker is a fork of this process and leaves through the same call
    stack with SystemExit: it must not unwind into the caller's clean-up (which stops
    the children) nor run the atexit handlers (which stop the embedded Redis), so it
    leaves with os._exit."""
    owner = os.getpid()
    try:
        ClubServer(app, sock, workers).run()
    except SystemExit as exc:
        if os.getpid() != owner:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        raise
    finally:
        if os.getpid() != owner:  # any other way out of a worker: still not ours to clean up
            os._exit(1)
