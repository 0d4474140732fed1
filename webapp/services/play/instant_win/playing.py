"""Instant-win games, the member side: the games a member may play and a play.

A play is one transaction in a fixed order: lock the member (their plays queue
up, so the daily cap and the balance are race-free), check the game, the
eligibility, the daily cap and the balance, roll (the server's roll, never the
browser's), take the prize with a guarded UPDATE (losing that race, or the
game's points budget, is SOLD_OUT: no win, and the odds of the other prizes do
not move), record the play under its unique request key, then charge the cost
and give the prize through `prizes.give` with keys derived from the play id. Any refusal raises and the caller's rollback undoes it all."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from games import instant_win as engine
from games.instant_win import ODDS_SCALE
from webapp.models import (
    InstantWinGame,
    InstantWinPlay,
    InstantWinPrize,
    Member,
    Tier,
)
from webapp.services import ledger, messages, tiers
from webapp.services.errors import (
    DomainError,
    IdempotencyConflict,
    InsufficientPoints,
    MemberNotActive,
    NotFound,
)
from webapp.services.offers import earn_rules, segments
from webapp.services.play import prizes
from webapp.services.play.instant_win.setup import engine_prize, game_prizes
from webapp.services.tiers.club_day import local_day

Roll = Callable[[int], int]


class GameClosed(DomainError):
    """This game is not open for play now."""

    code = "instant_win_closed"
    status = 409


class NotEligible(DomainError):
    """This game is for a higher level or another group of members."""

    code = "instant_win_not_eligible"
    status = 403


class DailyLimitReached(DomainError):
    """The member has used today's plays of this game."""

    code = "instant_win_daily_limit"
    status = 409


# -- members: what they see ------------------------------------------------------------


def is_open(game: InstantWinGame, now: datetime) -> bool:
    return game.status == "active" and game.opens_at <= now < game.closes_at


def _eligible(session: Session, game: InstantWinGame, member: Member, now: datetime) -> bool:
    if game.min_tier_id is not None:
        needed = session.scalar(select(Tier.rank).where(Tier.id == game.min_tier_id))
        level = tiers.member_level(session, member)
        if needed is not None and (level.rank if level else 0) < needed:
            return False
    return game.segment_id is None or segments.contains(session, game.segment_id, member.id, now)


def open_games(session: Session, member: Member, now: datetime) -> list[InstantWinGame]:
    """The games this member may play now, newest first (a fixed number of
    queries however many games: the member's level once, their segments at once)."""
    games = session.scalars(select(InstantWinGame).where(
        InstantWinGame.status == "active", InstantWinGame.opens_at <= now, InstantWinGame.closes_at > now)
        .order_by(InstantWinGame.id.desc())).all()
    tier_ids = {g.min_tier_id for g in games if g.min_tier_id is not None}
    needed = dict(session.execute(select(Tier.id, Tier.rank).where(Tier.id.in_(tier_ids))).all()) if tier_ids else {}
    level = tiers.member_level(session, member) if needed else None
    rank = level.rank if level else 0
    inside = segments.member_ids_in(session, {g.segment_id for g in games if g.segment_id is not None},
                                    member.id, now)
    return [g for g in games if needed.get(g.min_tier_id, 0) <= rank
            and (g.segment_id is None or g.segment_id in inside)]


def plays_today(session: Session, game_id: int, member_id: int, day: str) -> int:
    return session.scalar(select(func.count()).select_from(InstantWinPlay).where(
        InstantWinPlay.member_id == member_id, InstantWinPlay.game_id == game_id,
        InstantWinPlay.local_day == day)) or 0


@dataclass(frozen=True)
class GameView:
    game: InstantWinGame
    prizes: list[InstantWinPrize]
    plays_left: int
    balance: int
    refusal: DomainError | None  # why the member cannot play now (None: they can)


def member_game(session: Session, member: Member, game_id: int, now: datetime, tz: str) -> GameView:
    """The game page: NotFound for a game the member cannot see (a draft, or
    one for another group)."""
    game = session.get(InstantWinGame, game_id)
    if game is None or game.status == "draft" or not _eligible(session, game, member, now):
        raise NotFound("Game not found.", game_id=game_id)
    left = max(0, game.daily_plays - plays_today(session, game_id, member.id, local_day(now, tz)))
    balance = ledger.balance_of(session, member.id, "points")
    refusal: DomainError | None = None
    if not is_open(game, now):
        refusal = GameClosed(game_id=game_id)
    elif left == 0:
        refusal = DailyLimitReached(game_id=game_id)
    elif balance < game.cost_points:
        refusal = InsufficientPoints(needed=game.cost_points, balance=balance)
    return GameView(game=game, prizes=game_prizes(session, game_id), plays_left=left, balance=balance,
                    refusal=refusal)


def member_plays(session: Session, member_id: int, *, game_id: int | None = None, limit: int = 50):
    """The member's own plays newest first, with game and prize (one query)."""
    stmt = (select(InstantWinPlay, InstantWinGame, InstantWinPrize)
            .join(InstantWinGame, InstantWinGame.id == InstantWinPlay.game_id)
            .outerjoin(InstantWinPrize, InstantWinPrize.id == InstantWinPlay.prize_id)
            .where(InstantWinPlay.member_id == member_id))
    if game_id is not None:
        stmt = stmt.where(InstantWinPlay.game_id == game_id)
    return session.execute(stmt.order_by(InstantWinPlay.id.desc()).limit(limit)).all()


def member_play(session: Session, member_id: int, play_id: int):
    """One of the member's own plays (play, game, prize); NotFound for anyone else's."""
    row = session.execute(
        select(InstantWinPlay, InstantWinGame, InstantWinPrize)
        .join(InstantWinGame, InstantWinGame.id == InstantWinPlay.game_id)
        .outerjoin(InstantWinPrize, InstantWinPrize.id == InstantWinPlay.prize_id)
        .where(InstantWinPlay.id == play_id, InstantWinPlay.member_id == member_id)).first()
    if row is None:
        raise NotFound("Play not found.", play_id=play_id)
    return row


# -- members: playing ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlayResult:
    play: InstantWinPlay
    prize: InstantWinPrize | None  # the prize the roll landed on (won or sold out)
    replayed: bool  # the request key had already played

    @property
    def won(self) -> bool:
        return self.play.outcome == "won"


class _PrizeGone(Exception):
    """The prize (or the points budget) ran out between the roll and the take."""


def play(
    session: Session, *, member_id: int, game_id: int, request_key: str, now: datetime, tz: str,
    roll: Roll = secrets.randbelow,
) -> PlayResult:
    """Play once per `request_key`. `roll(n)` gives a uniform integer below n
    (the default is the OS's CSPRNG; tests pass a seeded one)."""
    if len(request_key) > 120:  # the column's size; long keys keep their uniqueness through a hash
        request_key = request_key[:50] + ":" + hashlib.sha256(request_key.encode()).hexdigest()
    member = ledger.lock_member(session, member_id)  # this member's plays queue here
    existing = _play_by_request(session, request_key)
    if existing is not None:
        return _replayed(session, existing, member_id, game_id)
    game = _playable(session, member, game_id, now)
    day = local_day(now, tz)
    if plays_today(session, game_id, member_id, day) >= game.daily_plays:
        raise DailyLimitReached(game_id=game_id, limit=game.daily_plays)
    if member.points_balance < game.cost_points:
        raise InsufficientPoints(needed=game.cost_points, balance=member.points_balance)

    prizes_ = list(session.scalars(select(InstantWinPrize).where(InstantWinPrize.game_id == game_id)
                                   .order_by(InstantWinPrize.position, InstantWinPrize.id)
                                   .execution_options(populate_existing=True)))
    value = roll(ODDS_SCALE)
    spin = engine.spin([engine_prize(p) for p in prizes_], value)
    landed = next((p for p in prizes_ if spin.landed_on and p.id == spin.landed_on.id), None)
    try:
        with session.begin_nested():
            play_row = InstantWinPlay(game_id=game_id, member_id=member_id, request_key=request_key,
                                      local_day=day, roll=value, outcome=spin.outcome.value,
                                      prize_id=landed.id if landed else None,
                                      points_spent=game.cost_points, created_at=now)
            session.add(play_row)
            session.flush()
    except IntegrityError:
        # a twin with the same request key won (the member lock makes this rare)
        existing = _play_by_request(session, request_key)
        if existing is None:
            raise
        return _replayed(session, existing, member_id, game_id)
    _settle(session, game, landed if spin.won else None, play_row, now, tz)
    return PlayResult(play=play_row, prize=landed, replayed=False)


def _playable(session: Session, member: Member, game_id: int, now: datetime) -> InstantWinGame:
    if member.status != "active":
        raise MemberNotActive(member_id=member.id)
    game = session.get(InstantWinGame, game_id, populate_existing=True)
    if game is None or game.status == "draft":
        raise NotFound("Game not found.", game_id=game_id)
    if not is_open(game, now):
        raise GameClosed(game_id=game_id)
    if not _eligible(session, game, member, now):
        raise NotEligible(game_id=game_id)
    return game


def _settle(session: Session, game: InstantWinGame, won: InstantWinPrize | None, play_row: InstantWinPlay,
            now: datetime, tz: str) -> None:
    """The recorded play's cost, prize, message and earn rules."""
    member_id = play_row.member_id
    if game.cost_points:
        ledger.spend_points(session, member_id, game.cost_points, key=f"instant_win:{play_row.id}:cost",
                            now=now, source=("instant_win", play_row.id), created_by=f"member:{member_id}",
                            description=f"Instant win: {game.name_en}")
    if won is not None:
        try:
            with session.begin_nested():
                _take_prize(session, game, won)
                play_row.coupon_id = _give_prize(session, game, won, play_row, now)
        except _PrizeGone:
            play_row.outcome, play_row.coupon_id = "sold_out", None
        session.flush()
    if play_row.outcome == "won":
        messages.notify(session, member_id=member_id, kind="instant_win", key=f"instant_win:{play_row.id}",
                           now=now, params={"game_id": game.id, "play_id": play_row.id,
                                            "name_fa": game.name_fa, "name_en": game.name_en,
                                            "prize_fa": won.name_fa, "prize_en": won.name_en,
                                            "kind": won.kind, "value": won.value})
    # every play counts, won or not (the game's daily cap bounds it; rules have their own caps)
    earn_rules.award_for_event(session, member_id=member_id, trigger="instant_win_played",
                               event_key=f"instant_win:{play_row.id}", now=now, tz=tz)


def _take_prize(session: Session, game: InstantWinGame, prize: InstantWinPrize) -> None:
    """The guards: the game's points budget and a prize's remaining count never
    go below zero (a concurrent play waits on the row lock, then re-checks the
    WHERE). Game before prize, the order staff edits lock them in too."""
    if prize.kind == "points":
        given = session.execute(
            update(InstantWinGame).where(
                InstantWinGame.id == game.id,
                InstantWinGame.points_budget.is_(None)
                | (InstantWinGame.points_given + prize.value <= InstantWinGame.points_budget))
            .values(points_given=InstantWinGame.points_given + prize.value).returning(InstantWinGame.id)
            .execution_options(synchronize_session=False)).scalar_one_or_none()
        if given is None:
            raise _PrizeGone
        session.expire(game, ["points_given"])
    taken = session.execute(
        update(InstantWinPrize).where(InstantWinPrize.id == prize.id, InstantWinPrize.remaining > 0)
        .values(remaining=InstantWinPrize.remaining - 1).returning(InstantWinPrize.id)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if taken is None:
        raise _PrizeGone
    session.expire(prize, ["remaining"])


def _give_prize(session: Session, game: InstantWinGame, prize: InstantWinPrize, play_row: InstantWinPlay,
                now: datetime) -> int | None:
    """The prize through `prizes.give` under this game's keys since its first
    release (`instant_win:{play}:prize` in the ledger, `instant_win:{play}` for a
    coupon); returns the coupon id for a reward. A reward that cannot be issued
    is _PrizeGone (the play is SOLD_OUT)."""
    given = prizes.give(session, member_id=play_row.member_id, kind=prize.kind, amount=prize.value,
                        reward_id=prize.reward_id, key=f"instant_win:{play_row.id}:prize",
                        coupon_key=f"instant_win:{play_row.id}", now=now, source=("instant_win", play_row.id),
                        description=f"Instant win: {game.name_en}: {prize.name_en}", expiring=False)
    if not given.issued:
        raise _PrizeGone
    return given.coupon_id


def _play_by_request(session: Session, request_key: str) -> InstantWinPlay | None:
    return session.scalar(select(InstantWinPlay).where(InstantWinPlay.request_key == request_key))


def _replayed(session: Session, existing: InstantWinPlay, member_id: int, game_id: int) -> PlayResult:
    if (existing.member_id, existing.game_id) != (member_id, game_id):
        raise IdempotencyConflict(key=existing.request_key)
    prize = session.get(InstantWinPrize, existing.prize_id) if existing.prize_id else None
    return PlayResult(play=existing, prize=prize, replayed=True)
