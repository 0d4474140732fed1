"""Production hashes passwords with Argon2id at argon2-cffi's defaults (RFC 9106
low-memory profile, above OWASP's minimum); the suite's cheap profile must only
ever come from its test-only switch."""

from __future__ import annotations

import os
import subprocess
import sys

from webapp.services.members import passwords


def _hash_in_a_clean_process() -> str:
    env = {k: v for k, v in os.environ.items() if k != passwords.TEST_ONLY_FLAG}
    return subprocess.run(
        [sys.executable, "-c", "from webapp.services.members import passwords; print(passwords.hash_password('a long password'))"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()


def test_production_hashes_meet_owasps_argon2id_minimum():
    stored = _hash_in_a_clean_process()
    assert stored.startswith("$argon2id$v=19$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert passwords.verify_password(stored, "a long password")  # the suite still verifies real hashes
    assert not passwords.verify_password(stored, "another password")
