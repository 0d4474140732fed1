"""The raffle draw engine, pure: no app, no database."""

import hashlib
import hmac
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games.raffle import (
    CommitmentMismatch,
    DrawResult,
    EntriesFileError,
    Entry,
    commitment,
    draw,
    draw_key,
    entries_digest,
    entries_file,
    parse_entries_file,
    ticket_key,
    verify,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = hashlib.sha256(b"test seed").digest()
OTHER_SEED = hashlib.sha256(b"another seed").digest()
PUBLIC = "drand round 4200000"
ENTRIES = (Entry("alice", 3), Entry("bob", 1), Entry("carol", 5), Entry("dave", 2),
           Entry("erin", 4), Entry("frank", 1), Entry("grace", 7), Entry("heidi", 2))

entry_ids = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                    min_size=1, max_size=8)
entry_lists = st.dictionaries(entry_ids, st.integers(1, 6), max_size=12).map(
    lambda d: [Entry(k, v) for k, v in d.items()])
seeds = st.binary(min_size=32, max_size=32)


def reference_draw(entries, seed, public_value, raffle_id, winners, alternates):
    """The specification, the slow obvious way: every ticket's integer key, all
    tickets in ascending order, the first distinct entries."""
    key = draw_key(seed, public_value, entries_digest(entries_file(entries)), raffle_id)
    tickets = sorted((ticket_key(key, e.entry_id, no), e.entry_id)
                     for e in entries for no in range(1, e.tickets + 1))
    order: list[str] = []
    for _, entry_id in tickets:
        if entry_id not in order:
            order.append(entry_id)
    return tuple(order[:winners]), tuple(order[winners:winners + alternates])


def test_commitment_is_the_hex_sha256_of_the_32_byte_seed():
    assert commitment(SEED) == hashlib.sha256(SEED).hexdigest()
    with pytest.raises(ValueError, match="32 bytes"):
        commitment(b"short")


def test_the_draw_key_follows_the_documented_length_prefixed_encoding():
    digest = entries_digest(entries_file(ENTRIES))

    def field(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    message = field(PUBLIC.encode()) + field(digest.encode()) + field(b"17")
    assert draw_key(SEED, PUBLIC, digest, 17) == hmac.new(SEED, message, "sha256").digest()
    key = draw_key(SEED, PUBLIC, digest, 17)
    expected = hashlib.sha256(key + field(b"carol") + (3).to_bytes(4, "big")).digest()
    assert ticket_key(key, "carol", 3) == int.from_bytes(expected, "big")


def test_fields_cannot_slide_into_each_other():
    # without length prefixes "ab" + "1" and "a" + "b1"-style splits would collide
    digest = entries_digest(b"")
    assert draw_key(SEED, "1", digest, 23) != draw_key(SEED, "12", digest, 3)
    assert draw_key(SEED, "", digest, 123) != draw_key(SEED, "1", digest, 23)


def test_canonical_file_is_sorted_by_plain_string_order_of_ids():
    data = entries_file([Entry("b", 2), Entry("B", 1), Entry("a10", 3), Entry("a9", 4)])
    assert data == b"B 1\na10 3\na9 4\nb 2\n"
    assert entries_digest(data) == hashlib.sha256(data).hexdigest()
    assert entries_file([]) == b""


def test_the_draw_is_reproducible_and_independent_of_input_order():
    first = draw(ENTRIES, SEED, PUBLIC, 17, winners=3, alternates=2)
    again = draw(tuple(reversed(ENTRIES)), SEED, PUBLIC, 17, winners=3, alternates=2)
    assert first == again
    assert isinstance(first, DrawResult)
    assert len(first.winners) == 3 and len(first.alternates) == 2
    assert first.entries_digest == entries_digest(entries_file(ENTRIES))
    assert first.key_hex == draw_key(SEED, PUBLIC, first.entries_digest, 17).hex()


@settings(max_examples=150, deadline=None)
@given(entry_lists, seeds, st.text(max_size=10), st.integers(0, 10**6), st.integers(1, 6),
       st.integers(0, 4))
def test_draw_matches_the_reference_and_never_repeats_a_winner(entries, seed, public, raffle,
                                                                 winners, alternates):
    result = draw(entries, seed, public, raffle, winners, alternates)
    assert (result.winners, result.alternates) == reference_draw(
        entries, seed, public, raffle, winners, alternates)
    chosen = result.winners + result.alternates
    assert len(set(chosen)) == len(chosen)
    assert set(chosen) <= {e.entry_id for e in entries}
    assert len(result.winners) == min(winners, len(entries))
    assert len(chosen) == min(winners + alternates, len(entries))


def test_more_winners_than_entries_means_everyone_wins_and_no_alternates():
    result = draw(ENTRIES[:3], SEED, PUBLIC, 1, winners=5, alternates=3)
    assert sorted(result.winners) == ["alice", "bob", "carol"]
    assert result.alternates == ()
    assert draw([], SEED, PUBLIC, 1, winners=2, alternates=1).winners == ()


def test_winners_and_alternates_are_one_ranking():
    ranked = draw(ENTRIES, SEED, PUBLIC, 9, winners=5)
    split = draw(ENTRIES, SEED, PUBLIC, 9, winners=2, alternates=3)
    assert split.winners + split.alternates == ranked.winners


@pytest.mark.parametrize("change", [
    "tickets", "seed", "public value", "raffle id",
])
def test_changing_any_input_changes_the_key_and_the_result(change):
    entries, seed, public, raffle = list(ENTRIES), SEED, PUBLIC, 17
    if change == "tickets":
        entries[0] = Entry("alice", 4)
    elif change == "seed":
        seed = OTHER_SEED
    elif change == "public value":
        public = "drand round 4200001"
    else:
        raffle = 18
    base = draw(ENTRIES, SEED, PUBLIC, 17, winners=8)
    changed = draw(entries, seed, public, raffle, winners=8)
    assert changed.key_hex != base.key_hex
    assert changed.winners != base.winners  # the full ranking of this fixed example moves
    if change == "tickets":
        assert changed.entries_digest != base.entries_digest


@settings(max_examples=60, deadline=None)
@given(entry_lists, seeds)
def test_file_round_trip_gives_the_same_entries_and_draw(entries, seed):
    data = entries_file(entries)
    parsed = parse_entries_file(data)
    assert sorted(parsed, key=lambda e: e.entry_id) == sorted(entries, key=lambda e: e.entry_id)
    assert entries_file(parsed) == data
    assert verify(data, seed.hex(), PUBLIC, 3, winners=2, alternates=1) == draw(
        parsed, seed, PUBLIC, 3, winners=2, alternates=1)


@pytest.mark.parametrize(("data", "reason"), [
    (b"alice 2", "newline"),
    (b"alice 1\nbob 2\r\n", "line 2: .*LF"),
    (b"alice\n", "expected"),
    (b"alice 2 3\n", "expected"),
    (b"alice  2\n", "expected"),
    (b" alice 2\n", "expected"),
    (b"alice 2\n\n", "expected"),
    (b"alice 0\n", "positive"),
    (b"alice -1\n", "positive"),
    (b"alice +1\n", "positive"),
    (b"alice 01\n", "leading zeros"),
    (b"alice 1.5\n", "positive"),
    (b"alice 99999999999\n", "more than"),
    (b"alice 1\nalice 2\n", "duplicate"),
    (b"bob 1\nalice 2\n", "not sorted"),
    ("\u0645\u0631\u06cc\u0645 1\n".encode(), "ASCII"),
    (b"\xff 1\n", "UTF-8"),
    (b"id 1\n" + b"x" * 65 + b" 1\n", "line 2"),
])
def test_malformed_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(EntriesFileError, match=reason):
        parse_entries_file(data)


def test_bad_entries_and_arguments_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        entries_file([Entry("a", 1), Entry("a", 2)])
    with pytest.raises(ValueError):
        Entry("a", 0)
    with pytest.raises(ValueError):
        Entry("has space", 1)
    with pytest.raises(TypeError):
        Entry("a", True)
    with pytest.raises(ValueError, match="winners"):
        draw(ENTRIES, SEED, PUBLIC, 1, winners=0)
    with pytest.raises(ValueError, match="32 bytes"):
        draw(ENTRIES, SEED[:31], PUBLIC, 1, winners=1)


def test_verify_checks_the_seed_against_the_commitment():
    data = entries_file(ENTRIES)
    ok = verify(data, SEED.hex(), PUBLIC, 17, winners=2, commitment_hex=commitment(SEED).upper())
    assert ok == draw(ENTRIES, SEED, PUBLIC, 17, winners=2)
    with pytest.raises(CommitmentMismatch):
        verify(data, SEED.hex(), PUBLIC, 17, winners=2, commitment_hex=commitment(OTHER_SEED))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "games.raffle", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_cli_reproduces_an_in_process_draw(tmp_path):
    path = tmp_path / "entries.txt"
    path.write_bytes(entries_file(ENTRIES))
    expected = draw(ENTRIES, SEED, PUBLIC, 17, winners=3, alternates=2)
    done = run_cli("verify", str(path), "--seed", SEED.hex(), "--public-value", PUBLIC,
                   "--raffle-id", "17", "--winners", "3", "--alternates", "2",
                   "--commitment", commitment(SEED))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"entries digest: {expected.entries_digest}" in lines
    assert f"draw key: {expected.key_hex}" in lines
    assert [line.split(": ")[1] for line in lines if line.startswith("winner ")] == list(
        expected.winners)
    assert [line.split(": ")[1] for line in lines if line.startswith("alternate ")] == list(
        expected.alternates)


def test_the_cli_refuses_a_wrong_commitment_and_a_bad_file(tmp_path):
    path = tmp_path / "entries.txt"
    path.write_bytes(entries_file(ENTRIES))
    wrong = run_cli("verify", str(path), "--seed", SEED.hex(), "--raffle-id", "17",
                    "--winners", "3", "--commitment", commitment(OTHER_SEED))
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert len(wrong.stderr.strip().splitlines()) == 1 and "commitment" in wrong.stderr
    path.write_bytes(b"bob 1\nalice 2\n")
    bad = run_cli("verify", str(path), "--seed", SEED.hex(), "--raffle-id", "17",
                  "--winners", "3")
    assert bad.returncode == 2 and "not sorted" in bad.stderr
    assert run_cli("--help").returncode == 0


# Fairness. Critical values of the chi-square distribution at significance 0.001,
# from the NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.6.7.4
# ("Critical Values of the Chi-Square Distribution"), upper tail.
CHI_SQUARE_CRITICAL_0_001 = {4: 18.467}
FAIRNESS_ENTRIES = (Entry("a", 1), Entry("b", 2), Entry("c", 3), Entry("d", 4), Entry("e", 10))
FAIRNESS_DRAWS = 4000


def chi_square(observed: dict[str, int], expected: dict[str, float]) -> float:
    return sum((observed[k] - expected[k]) ** 2 / expected[k] for k in expected)


@pytest.fixture(scope="module")
def fairness_rankings():
    # fixed seeds: the test is deterministic, it cannot flake
    return [draw(FAIRNESS_ENTRIES, hashlib.sha256(b"fairness %d" % i).digest(), "", i,
                 winners=2).winners for i in range(FAIRNESS_DRAWS)]


def test_first_place_frequency_matches_ticket_share(fairness_rankings):
    total = sum(e.tickets for e in FAIRNESS_ENTRIES)
    expected = {e.entry_id: FAIRNESS_DRAWS * e.tickets / total for e in FAIRNESS_ENTRIES}
    observed = dict.fromkeys(expected, 0)
    for winners in fairness_rankings:
        observed[winners[0]] += 1
    df = len(expected) - 1
    assert chi_square(observed, expected) < CHI_SQUARE_CRITICAL_0_001[df], observed


def test_second_place_follows_sampling_without_replacement(fairness_rankings):
    total = sum(e.tickets for e in FAIRNESS_ENTRIES)
    share = {e.entry_id: Fraction(e.tickets, total) for e in FAIRNESS_ENTRIES}
    # P(i second) = sum over j != i of P(j first) * P(i first among the rest)
    expected = {i: FAIRNESS_DRAWS * float(sum(share[j] * share[i] / (1 - share[j])
                                              for j in share if j != i)) for i in share}
    observed = dict.fromkeys(expected, 0)
    for winners in fairness_rankings:
        observed[winners[1]] += 1
    df = len(expected) - 1
    assert chi_square(observed, expected) < CHI_SQUARE_CRITICAL_0_001[df], observed
