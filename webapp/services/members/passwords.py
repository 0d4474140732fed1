"""Password hashing with Argon2id (argon2-cffi's defaults: RFC 9106 low-memory
profile, above OWASP's minimum)."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# The test suite hashes thousands of passwords at ~140 ms each: it sets this to
# use argon2-cffi's CHEAPEST profile, which exists for tests. Never in production.
TEST_ONLY_FLAG = "VAFA_TEST_ONLY_CHEAP_PASSWORD_HASHING"
_hasher = (PasswordHasher.from_parameters(profiles.CHEAPEST) if os.environ.get(TEST_ONLY_FLAG) == "1"
           else PasswordHasher())
# verified when the account does not exist, so both answers take the same time
_DUMMY_HASH = _hasher.hash("vafa-dummy-password")

MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
