"""Provably fair raffle draws (commit-reveal), pure and deterministic.

When a raffle is published the caller draws a 32-byte secret seed (randomness is a
parameter: nothing here generates it) and publishes `commitment(seed)`. At close the
entry list is frozen as the canonical file below and its digest published; the draw
is then a function of the seed, the public value, the file and the raffle id only, so
anyone holding them can re-run it (`python -m games.raffle verify FILE ...`).

Canonical entry-list file (version 1)
    One line per entry, `<entry id> <ticket count>\\n`, UTF-8, no header, no blank
    lines, every line (also the last) ending in a single LF, lines in strictly
    ascending plain string order of the entry ids (ids are ASCII, so this is also
    byte order). An entry id is 1-64 visible ASCII characters (`!`..`~`, no spaces);
    the ticket count is a positive decimal integer without sign or leading zeros.
    `entries_digest` = lowercase hex SHA-256 of the file bytes. No entries = empty file.

Byte encodings (`u32(x)` = 4-byte big-endian unsigned, `‖` = concatenation)
    commitment  = hex SHA-256(seed), seed exactly 32 bytes.
    field(b)    = u32(len(b)) ‖ b   -- every variable-length field is length-prefixed,
                                       so no two different inputs concatenate alike.
    k           = HMAC-SHA256(key=seed,
                              msg=field(UTF-8 public_value)
                                  ‖ field(ASCII entries_digest, 64 lowercase hex chars)
                                  ‖ field(ASCII decimal raffle_id, no leading zeros))
    ticket key  = SHA-256(k ‖ field(ASCII entry id) ‖ u32(ticket_no)),
                  ticket_no = 1..count; compared as a 256-bit big-endian integer
                  (equivalently, as bytes).

The draw
    Entries are ranked by their smallest ticket key (ties, which would need a SHA-256
    collision, go to the smaller entry id): the first `winners` entries win in that
    order, the next `alternates` are the alternates. Ordering distinct entries by the
    first of their tickets in a uniformly random order of all tickets is exactly
    weighted sampling without replacement (an entry with c of T remaining tickets is
    next with probability c/T) with integers only: no floats, no modulo.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import hmac
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SEED_BYTES = 32
MAX_ENTRY_ID_LENGTH = 64
MAX_TICKETS_PER_ENTRY = 2**32 - 1  # ticket numbers are encoded in four bytes
_ENTRY_ID = re.compile(r"[!-~]{1,%d}" % MAX_ENTRY_ID_LENGTH)
_COUNT = re.compile(r"[1-9][0-9]*")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class EntriesFileError(ValueError):
    """The entry-list file is not in the canonical form; the message names the line."""


class CommitmentMismatch(ValueError):
    """The revealed seed does not hash to the published commitment."""


@dataclass(frozen=True)
class Entry:
    entry_id: str  # pseudonymous: never a member id, email or phone
    tickets: int

    def __post_init__(self) -> None:
        if not isinstance(self.entry_id, str) or not _ENTRY_ID.fullmatch(self.entry_id):
            raise ValueError(
                f"entry id must be 1-{MAX_ENTRY_ID_LENGTH} visible ASCII characters "
                f"without spaces: {self.entry_id!r}")
        if isinstance(self.tickets, bool) or not isinstance(self.tickets, int):
            raise TypeError("tickets must be an integer")
        if not 1 <= self.tickets <= MAX_TICKETS_PER_ENTRY:
            raise ValueError(f"entry {self.entry_id}: tickets must be 1..{MAX_TICKETS_PER_ENTRY}")


@dataclass(frozen=True)
class DrawResult:
    winners: tuple[str, ...]  # entry ids, first prize first
    alternates: tuple[str, ...]  # entry ids in the order they move up
    key_hex: str  # the draw key k
    entries_digest: str


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _check_seed(seed: bytes) -> None:
    if not isinstance(seed, bytes | bytearray) or len(seed) != SEED_BYTES:
        raise ValueError(f"the seed must be exactly {SEED_BYTES} bytes")


def _check_counts(winners: int, alternates: int) -> None:
    for name, value, least in (("winners", winners, 1), ("alternates", alternates, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}")


def commitment(seed: bytes) -> str:
    """What is published before the draw: hex SHA-256 of the seed."""
    _check_seed(seed)
    return hashlib.sha256(seed).hexdigest()


def seed_matches(seed: bytes, published: str) -> bool:
    """Whether the revealed seed is the one committed to (hex, any case)."""
    published = published.strip().lower()
    if not _HEX_DIGEST.fullmatch(published):
        raise ValueError("the commitment must be 64 hex characters")
    return hmac.compare_digest(commitment(seed), published)


def _canonical_order(entries: Iterable[Entry]) -> list[Entry]:
    ordered = sorted(entries, key=lambda entry: entry.entry_id)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.entry_id == after.entry_id:
            raise ValueError(f"duplicate entry id {before.entry_id!r}")
    return ordered


def _file_of(ordered: Sequence[Entry]) -> bytes:
    return "".join(f"{e.entry_id} {e.tickets}\n" for e in ordered).encode("ascii")


def entries_file(entries: Iterable[Entry]) -> bytes:
    """The canonical entry-list file; refuses duplicate ids."""
    return _file_of(_canonical_order(entries))


def parse_entries_file(data: bytes) -> tuple[Entry, ...]:
    """The entries of a canonical file; anything not canonical is refused, so one
    entry list has exactly one file and one digest."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntriesFileError(f"not UTF-8 (byte {exc.start})") from None
    if not text:
        return ()
    if not text.endswith("\n"):
        raise EntriesFileError("the last line does not end with a newline")
    if "\r" in text:
        line = text.count("\n", 0, text.index("\r")) + 1
        raise EntriesFileError(f"line {line}: lines must end with LF alone, not CR LF")
    entries: list[Entry] = []
    previous = None
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        parts = line.split(" ")
        if len(parts) != 2:
            raise EntriesFileError(
                f"line {number}: expected '<entry id> <ticket count>', got {line!r}")
        entry_id, count = parts
        if not _ENTRY_ID.fullmatch(entry_id):
            raise EntriesFileError(
                f"line {number}: entry id must be 1-{MAX_ENTRY_ID_LENGTH} visible ASCII "
                f"characters: {entry_id!r}")
        if not _COUNT.fullmatch(count):
            raise EntriesFileError(
                f"line {number}: ticket count must be a positive integer without sign or "
                f"leading zeros: {count!r}")
        if len(count) > 10 or int(count) > MAX_TICKETS_PER_ENTRY:
            raise EntriesFileError(f"line {number}: more than {MAX_TICKETS_PER_ENTRY} tickets")
        if previous is not None and entry_id <= previous:
            what = "duplicate entry id" if entry_id == previous else "not sorted at entry id"
            raise EntriesFileError(f"line {number}: {what} {entry_id!r}")
        previous = entry_id
        entries.append(Entry(entry_id, int(count)))
    return tuple(entries)


def entries_digest(data: bytes) -> str:
    """Hex SHA-256 of the canonical file (published at close)."""
    return hashlib.sha256(data).hexdigest()


def draw_key(seed: bytes, public_value: str, digest: str, raffle_id: int) -> bytes:
    """k = HMAC-SHA256(seed, field(public value) ‖ field(digest) ‖ field(raffle id))."""
    _check_seed(seed)
    if not isinstance(public_value, str):
        raise TypeError("public_value must be a string ('' when the raffle names none)")
    if not _HEX_DIGEST.fullmatch(digest):
        raise ValueError("entries digest must be 64 lowercase hex characters")
    if isinstance(raffle_id, bool) or not isinstance(raffle_id, int) or raffle_id < 0:
        raise ValueError("raffle_id must be a non-negative integer")
    message = (_field(public_value.encode("utf-8")) + _field(digest.encode("ascii"))
               + _field(str(raffle_id).encode("ascii")))
    return hmac.new(bytes(seed), message, hashlib.sha256).digest()


def ticket_key(key: bytes, entry_id: str, ticket_no: int) -> int:
    """One ticket's key as an integer (the draw itself compares the same bytes)."""
    digest = hashlib.sha256(key + _field(entry_id.encode("ascii"))
                            + ticket_no.to_bytes(4, "big")).digest()
    return int.from_bytes(digest, "big")


def _ranked(key: bytes, entries: Sequence[Entry], take: int) -> list[str]:
    """The `take` entries with the smallest minimum ticket key, smallest first."""
    sha256 = hashlib.sha256
    ticket_suffixes: list[bytes] = []  # u32(ticket_no), shared by all entries
    best: list[tuple[bytes, str]] = []
    append = best.append
    for entry in entries:
        count = entry.tickets
        if count > len(ticket_suffixes):
            ticket_suffixes.extend(t.to_bytes(4, "big")
                                   for t in range(len(ticket_suffixes) + 1, count + 1))
        # The prefix k ‖ field(id) is fed once; each ticket hashes a copy plus u32(no).
        fresh = sha256(key + _field(entry.entry_id.encode("ascii"))).copy
        lowest = None
        for suffix in ticket_suffixes[:count]:
            hasher = fresh()
            hasher.update(suffix)
            digest = hasher.digest()
            if lowest is None or digest < lowest:
                lowest = digest
        append((lowest, entry.entry_id))
    return [entry_id for _, entry_id in heapq.nsmallest(take, best)]


def draw(entries: Iterable[Entry], seed: bytes, public_value: str, raffle_id: int,
         winners: int, alternates: int = 0) -> DrawResult:
    """Draw `winners` then `alternates` distinct entries (fewer if there are not
    enough entries). The entries are put in canonical form first, so their order in
    `entries` does not matter."""
    _check_counts(winners, alternates)
    ordered = _canonical_order(entries)
    return _draw(ordered, _file_of(ordered), seed, public_value, raffle_id, winners,
                 alternates)


def _draw(entries: Sequence[Entry], data: bytes, seed: bytes, public_value: str,
          raffle_id: int, winners: int, alternates: int) -> DrawResult:
    digest = entries_digest(data)
    key = draw_key(seed, public_value, digest, raffle_id)
    ranked = _ranked(key, entries, winners + alternates)
    return DrawResult(winners=tuple(ranked[:winners]), alternates=tuple(ranked[winners:]),
                      key_hex=key.hex(), entries_digest=digest)


def verify(file_bytes: bytes, seed_hex: str, public_value: str, raffle_id: int,
           winners: int, alternates: int = 0, commitment_hex: str | None = None) -> DrawResult:
    """Re-run a published draw from the downloaded file and the revealed seed.
    Raises CommitmentMismatch if a commitment is given and the seed does not match it,
    EntriesFileError if the file is not canonical."""
    try:
        seed = bytes.fromhex(seed_hex.strip())
    except ValueError:
        raise ValueError("the seed must be hex") from None
    _check_seed(seed)
    if commitment_hex is not None and not seed_matches(seed, commitment_hex):
        raise CommitmentMismatch(
            f"sha256(seed) is {commitment(seed)}, not the published {commitment_hex.strip()}")
    _check_counts(winners, alternates)
    entries = parse_entries_file(file_bytes)
    return _draw(entries, file_bytes, seed, public_value, raffle_id, winners, alternates)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m games.raffle",
        description="Verify a Vafa raffle draw from the published entry list and the revealed seed.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "verify", help="recompute the winners of a draw",
        description="Recompute the winners and alternates of a raffle draw. Exit status: "
                    "0 done, 1 the seed does not match the commitment, 2 bad input.")
    check.add_argument("file", help="the canonical entry-list file ('-' reads standard input)")
    check.add_argument("--seed", required=True, help="the revealed seed, 64 hex characters")
    check.add_argument("--public-value", default="",
                       help="the public value named in advance (default: none, the empty string)")
    check.add_argument("--raffle-id", required=True, type=int)
    check.add_argument("--winners", required=True, type=int)
    check.add_argument("--alternates", type=int, default=0)
    check.add_argument("--commitment", help="the published sha256(seed), checked if given")
    args = parser.parse_args(argv)

    try:
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as handle:
                data = handle.read()
        result = verify(data, args.seed, args.public_value, args.raffle_id, args.winners,
                        args.alternates, commitment_hex=args.commitment)
    except CommitmentMismatch as exc:
        print(f"commitment mismatch: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(f"entries digest: {result.entries_digest}")
    if args.commitment is not None:
        print(f"commitment: ok ({args.commitment.strip().lower()})")
    print(f"draw key: {result.key_hex}")
    for rank, entry_id in enumerate(result.winners, start=1):
        print(f"winner {rank}: {entry_id}")
    for rank, entry_id in enumerate(result.alternates, start=1):
        print(f"alternate {rank}: {entry_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
