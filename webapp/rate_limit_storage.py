"""Flask-Limiter's Redis storage, one round trip per limited request.

The stock fixed-window storage counts a hit with one script call, then the
`X-RateLimit-*` headers ask Redis twice more (GET for what is left, TTL for the
reset). Here the script answers the count and the TTL together and the headers
are built from that answer: one round trip per request instead of three. The
answer is kept for the thread that made the hit, for the key it hit, briefly."""

from __future__ import annotations

import threading
import time

from limits.storage import RedisStorage

SCHEME = "vafa+"  # vafa+redis://…, vafa+rediss://…, vafa+redis+unix://…
FRESH_FOR = 1.0  # seconds: the headers are read at the end of the same request

_INCR_EXPIRE_TTL = """
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""


class OneTripRedisStorage(RedisStorage):
    STORAGE_SCHEME = [SCHEME + s for s in ("redis", "rediss", "redis+unix")]

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri.removeprefix(SCHEME), **options)
        self._last = threading.local()

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(_INCR_EXPIRE_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        current, ttl = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        self._last.hit = (key, int(current), max(int(ttl), 0) + time.time(), time.monotonic())
        return int(current)

    def _fresh(self, key: str):
        hit = getattr(self._last, "hit", None)
        if hit is not None and hit[0] == key and time.monotonic() - hit[3] < FRESH_FOR:
            return hit
        return None

    def get(self, key: str) -> int:
        hit = self._fresh(key)
        return hit[1] if hit is not None else super().get(key)

    def get_expiry(self, key: str) -> float:
        hit = self._fresh(key)
        if hit is None:
            return super().get_expiry(key)
        self._last.hit = None  # the window stats read count, then expiry: used up
        return hit[2]
