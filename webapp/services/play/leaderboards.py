"""Live contest leaderboards in Redis sorted sets, one per contest.

The member is the sorted-set member; the score is `sorted_set_score(score,
elapsed, tie_time)` under the contest's layout, so ZSET order is the
leaderboard order and a rank is `ZCOUNT (mine +inf` + 1: O(log n), ties shared
exactly as `games.leaderboard.rank_entries` shares them. The set is a cache of
the finished attempts in the database: `rebuild` re-adds them all (ZADD of a
final value is idempotent, so it is safe beside live updates), and reading a
missing key rebuilds it. Finalised contests are read from the stored ranks."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from games.leaderboard import Entry, SortedSetLayout, decode_sorted_set_score, sorted_set_score
from webapp.models import Contest, ContestEntry, Member
from webapp.services.play import registry

TOP = 10
TIE_OVERFLOW = 40  # at most this many extra rows when many tie at the cut


def board_key(contest_id: int) -> str:
    return f"vafa:contest:{contest_id}:board"


@dataclass(frozen=True)
class Row:
    rank: int
    member_id: int
    name: str
    score: int


@dataclass(frozen=True)
class Board:
    top: tuple[Row, ...]
    mine: Row | None
    final: bool
    waiting: bool = False  # no live board for this kind: the ranking comes with the result


def record_attempt(redis: Redis, contest_id: int, layout: SortedSetLayout, entry: Entry) -> None:
    """Put one finished attempt on the board (call after its commit)."""
    redis.zadd(board_key(contest_id), {str(entry.member_id): sorted_set_score(
        entry.score, entry.elapsed_ms, entry.submitted_at_ms, layout)})


def finished_entries(session: Session, contest_id: int) -> list[Entry]:
    rows = session.execute(select(ContestEntry.member_id, ContestEntry.score, ContestEntry.elapsed_ms,
                                  ContestEntry.tie_time)
                           .where(ContestEntry.contest_id == contest_id, ContestEntry.finished_at.is_not(None)))
    return [Entry(m, s, e, t) for m, s, e, t in rows]


def rebuild(session: Session, redis: Redis, contest: Contest) -> int:
    """Re-add every finished attempt from the database; returns how many."""
    layout = registry.get_type(contest.kind).layout(session, contest)
    entries = finished_entries(session, contest.id)
    key = board_key(contest.id)
    pipe = redis.pipeline(transaction=False)
    for start in range(0, len(entries), 5000):
        pipe.zadd(key, {str(e.member_id): sorted_set_score(e.score, e.elapsed_ms, e.submitted_at_ms, layout)
                        for e in entries[start:start + 5000]})
    pipe.execute()
    return len(entries)


def rebuild_open_boards(session: Session, redis: Redis) -> dict[int, int]:
    """Every published contest with a live board: {contest id: attempts added}."""
    live = [k for k in registry.kinds("contest") if registry.get_type(k).live_board]
    contests = session.scalars(select(Contest).where(Contest.status == "published", Contest.kind.in_(live)))
    return {c.id: rebuild(session, redis, c) for c in contests}


def rank_of(redis: Redis, contest_id: int, member_id: int) -> int | None:
    key = board_key(contest_id)
    mine = redis.zscore(key, str(member_id))
    if mine is None:
        return None
    return redis.zcount(key, f"({int(mine)}", "+inf") + 1


def board(session: Session, redis: Redis, contest: Contest, member_id: int | None, n: int = TOP) -> Board:
    """The top `n` (everyone tied at the cut included) and the member's own row."""
    if contest.status == "finalised":
        return _final_board(session, contest, member_id, n)
    if not registry.get_type(contest.kind).live_board:
        return Board((), None, False, waiting=True)
    key = board_key(contest.id)
    if not redis.exists(key):
        rebuild(session, redis, contest)
    layout = registry.get_type(contest.kind).layout(session, contest)
    head = redis.zrevrange(key, 0, n - 1, withscores=True)
    if len(head) == n:  # members tied with the n-th are in the top n too
        head = redis.zrevrangebyscore(key, "+inf", int(head[-1][1]), start=0, num=n + TIE_OVERFLOW,
                                      withscores=True)
    rows: list[tuple[int, int, int]] = []  # rank, member, score
    for position, (member, value) in enumerate(head, start=1):
        rank = rows[-1][0] if rows and head[position - 2][1] == value else position
        rows.append((rank, int(member), decode_sorted_set_score(int(value), layout)[0]))
    mine = None
    if member_id is not None:
        value = redis.zscore(key, str(member_id))
        if value is not None:
            rank = redis.zcount(key, f"({int(value)}", "+inf") + 1
            rows_mine = (rank, member_id, decode_sorted_set_score(int(value), layout)[0])
            mine = rows_mine
    return _named(session, rows, mine, final=False)


def _final_board(session: Session, contest: Contest, member_id: int | None, n: int) -> Board:
    rows = session.execute(
        select(ContestEntry.final_rank, ContestEntry.member_id, ContestEntry.score)
        .where(ContestEntry.contest_id == contest.id, ContestEntry.final_rank <= n)
        .order_by(ContestEntry.final_rank, ContestEntry.member_id).limit(n + TIE_OVERFLOW)).all()
    mine = None
    if member_id is not None:
        mine = session.execute(select(ContestEntry.final_rank, ContestEntry.member_id, ContestEntry.score)
                               .where(ContestEntry.contest_id == contest.id, ContestEntry.member_id == member_id,
                                      ContestEntry.final_rank.is_not(None))).first()
    return _named(session, [tuple(r) for r in rows], tuple(mine) if mine else None, final=True)


def _named(session: Session, rows, mine, *, final: bool) -> Board:
    """Rows with the members' first names (one query); no other details leave the server."""
    ids = {r[1] for r in rows} | ({mine[1]} if mine else set())
    names = dict(session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids))).all()) if ids else {}

    def row(r) -> Row:
        name = (names.get(r[1]) or "").split(" ")[0] or f"#{r[1]}"
        return Row(rank=r[0], member_id=r[1], name=name, score=r[2])

    return Board(tuple(row(r) for r in rows), row(mine) if mine else None, final)
