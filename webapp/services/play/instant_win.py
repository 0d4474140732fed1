"""Instant-win games (spin the wheel, scratch card) around the pure engine
`games.instant_win`.

Staff define a game (draft) with prizes whose odds are parts per million laid
end to end, publish it, and end it. Prizes are fixed once anyone has played;
their quantities may only be raised.

A play is one transaction in a fixed order: lock the member (their plays queue
up, so the daily cap and the balance are race-free), check the game, the
eligibility, the daily cap and the balance, roll (the server's roll, never the
browser's), take the prize with a guarded UPDATE (losing that race, or the
game's points budget, is SOLD_OUT: no win, and the odds of the other prizes do
not move), record the play under its unique request key, then charge the cost
and give the prize through the ledger / `rewards.grant_reward` with keys derived
from the play id. Any refusal raises and the caller's rollback undoes it all."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from zoneinfo import ZoneInfo

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
    Reward,
    Segment,
    Tier,
)
from webapp.services import ledger, tiers
from webapp.services.errors import (
    Conflict,
    DomainError,
    IdempotencyConflict,
    InsufficientPoints,
    MemberNotActive,
    NotFound,
    ProblemsInvalid,
)
from webapp.services.members import audit, inbox
from webapp.services.offers import earn_rules, rewards, segments

MAX_NAME = 120
GONE = {"min_tier_id": "tier_gone", "segment_id": "segment_gone"}  # an id that no longer exists
MAX_COST = 10_000_000
MAX_DAILY_PLAYS = 1_000
MAX_PRIZES = 12
MAX_QUANTITY = 10_000_000
MAX_PRIZE_POINTS = 10_000_000
MAX_PRIZE_CREDIT = 10**12
MAX_BUDGET = 10**12
STYLES = ("wheel", "scratch")
PRIZE_KINDS = ("points", "credit", "reward")
# what members play against: fixed once anyone has played (quantities may grow)
PRIZE_LOCKED_FIELDS = ("name_fa", "name_en", "kind", "value", "reward_id", "odds_ppm")

Roll = Callable[[int], int]


# -- domain errors ------------------------------------------------------------------


class GameInvalid(ProblemsInvalid):
    """The game is not valid."""

    code = "instant_win_invalid"


class GameLocked(Conflict):
    """Members have played: the prizes can no longer change (quantities may be raised)."""

    code = "instant_win_locked"


class GameWrongStatus(Conflict):
    """The game is not in a state that allows this."""

    code = "instant_win_wrong_status"


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


# -- odds as staff type them ---------------------------------------------------------

_ONE_IN = re.compile(r"^1\s*(?:in|/|:|در|از)\s*([0-9][0-9,]*(?:\.[0-9]+)?)$", re.IGNORECASE)
_PERCENT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*%$")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٪٫٬", "01234567890123456789%.,")


def parse_odds(text: str) -> int:
    """Parts per million from "1 in 50" (also "1/50", "۱ در ۵۰") or "2%" / "0.5 %".
    ValueError when it is neither, or not above 0 and at most 100%."""
    cleaned = " ".join((text or "").translate(_DIGITS).split())
    one_in, percent = _ONE_IN.match(cleaned), _PERCENT.match(cleaned)
    try:
        if one_in:
            n = Decimal(one_in.group(1).replace(",", ""))
            if n < 1:
                raise ValueError("1 in N needs N of at least 1")
            ppm = round(Fraction(ODDS_SCALE) / Fraction(n))
        elif percent:
            ppm = Fraction(Decimal(percent.group(1))) * (ODDS_SCALE // 100)
            if ppm.denominator != 1:
                raise ValueError("a percent has at most four decimals")
            ppm = int(ppm)
        else:
            raise ValueError("write the odds as 1 in N or as a percent")
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not 0 < ppm <= ODDS_SCALE:
        raise ValueError("the odds must be above 0 and at most 100%")
    return ppm


def one_in(odds_ppm: int) -> int:
    """The published "1 in N" (N rounded to a whole number)."""
    return max(1, round(Fraction(ODDS_SCALE, odds_ppm)))


def odds_text(odds_ppm: int) -> str:
    """How the staff form shows saved odds again (parses back to the same ppm
    when it was typed as "1 in N" with whole N, else as a percent)."""
    n = one_in(odds_ppm)
    if round(Fraction(ODDS_SCALE, n)) == odds_ppm:
        return f"1 in {n}"
    return f"{Decimal(odds_ppm) / (ODDS_SCALE // 100)}%".replace(".0000%", "%")


# -- staff: define, publish, end ------------------------------------------------------


@dataclass(frozen=True)
class PrizeSpec:
    name_fa: str
    name_en: str
    kind: str
    odds_ppm: int
    quantity: int
    value: int = 0
    reward_id: int | None = None


@dataclass(frozen=True)
class GameSpec:
    """What staff define; `opens_at`/`closes_at` are UTC instants (the admin form
    converts club-local days)."""

    name_fa: str
    name_en: str
    opens_at: datetime
    closes_at: datetime
    style: str = "wheel"
    cost_points: int = 0
    daily_plays: int = 1
    description_fa: str | None = None
    description_en: str | None = None
    min_tier_id: int | None = None
    segment_id: int | None = None
    points_budget: int | None = None
    prizes: tuple[PrizeSpec, ...] = field(default_factory=tuple)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_spec(session: Session, spec: GameSpec) -> dict[str, str]:
    """Problems by field name (prizes as `prize-N-field`); empty when valid."""
    problems: dict[str, str] = {}
    if not (spec.name_fa or "").strip() or not (spec.name_en or "").strip():
        problems["name"] = "names_required"
    elif max(len(spec.name_fa), len(spec.name_en)) > MAX_NAME:
        problems["name"] = "name_too_long"
    if spec.style not in STYLES:
        problems["style"] = "unknown_style"
    if not _is_int(spec.cost_points) or not 0 <= spec.cost_points <= MAX_COST:
        problems["cost_points"] = "play_cost_range"
    if not _is_int(spec.daily_plays) or not 0 < spec.daily_plays <= MAX_DAILY_PLAYS:
        problems["daily_plays"] = "daily_plays_range"
    if spec.opens_at is None or spec.closes_at is None or spec.closes_at <= spec.opens_at:
        problems["closes_at"] = "last_day_before_first"
    if spec.points_budget is not None and (not _is_int(spec.points_budget)
                                           or not 0 < spec.points_budget <= MAX_BUDGET):
        problems["points_budget"] = "budget_positive"
    for name, model, value in (("min_tier_id", Tier, spec.min_tier_id), ("segment_id", Segment, spec.segment_id)):
        if value is not None and session.get(model, value) is None:
            problems[name] = GONE[name]
    if len(spec.prizes) > MAX_PRIZES:
        problems["prizes"] = "too_many_prizes"
    for n, prize in enumerate(spec.prizes):
        problems.update({f"prize-{n}-{k}": v for k, v in _check_prize(session, prize).items()})
    if sum(p.odds_ppm for p in spec.prizes if _is_int(p.odds_ppm)) > ODDS_SCALE:
        problems["odds"] = "odds_total"
    return problems


def _check_prize(session: Session, prize: PrizeSpec) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not (prize.name_fa or "").strip() or not (prize.name_en or "").strip():
        problems["name"] = "prize_name"
    elif max(len(prize.name_fa), len(prize.name_en)) > MAX_NAME:
        problems["name"] = "prize_name_too_long"
    if prize.kind not in PRIZE_KINDS:
        problems["kind"] = "prize_kind"
    elif prize.kind == "points" and not (_is_int(prize.value) and 0 < prize.value <= MAX_PRIZE_POINTS):
        problems["value"] = "prize_points_range"
    elif prize.kind == "credit" and not (_is_int(prize.value) and 0 < prize.value <= MAX_PRIZE_CREDIT):
        problems["value"] = "prize_credit_positive"
    elif prize.kind == "reward":
        reward = session.get(Reward, prize.reward_id) if prize.reward_id is not None else None
        if reward is None or reward.status == "archived":
            problems["reward_id"] = "prize_reward"
    if not _is_int(prize.odds_ppm) or not 0 < prize.odds_ppm <= ODDS_SCALE:
        problems["odds"] = "prize_odds"
    if not _is_int(prize.quantity) or not 0 < prize.quantity <= MAX_QUANTITY:
        problems["quantity"] = "prize_quantity"
    return problems


def _normalised(spec: GameSpec) -> GameSpec:
    prizes = tuple(
        PrizeSpec(name_fa=(p.name_fa or "").strip(), name_en=(p.name_en or "").strip(), kind=p.kind,
                  odds_ppm=p.odds_ppm, quantity=p.quantity,
                  value=0 if p.kind == "reward" else p.value,
                  reward_id=p.reward_id if p.kind == "reward" else None)
        for p in spec.prizes)
    return GameSpec(**{**{k: getattr(spec, k) for k in GameSpec.__dataclass_fields__},
                       "name_fa": (spec.name_fa or "").strip(), "name_en": (spec.name_en or "").strip(),
                       "description_fa": (spec.description_fa or "").strip() or None,
                       "description_en": (spec.description_en or "").strip() or None,
                       "prizes": prizes})


def _checked(session: Session, spec: GameSpec) -> GameSpec:
    spec = _normalised(spec)
    problems = check_spec(session, spec)
    if problems:
        raise GameInvalid(problems)
    return spec


GAME_FIELDS = tuple(name for name in GameSpec.__dataclass_fields__ if name != "prizes")


def game_prizes(session: Session, game_id: int) -> list[InstantWinPrize]:
    return list(session.scalars(select(InstantWinPrize).where(InstantWinPrize.game_id == game_id)
                                .order_by(InstantWinPrize.position, InstantWinPrize.id)))


def _snapshot(session: Session, game: InstantWinGame) -> dict:
    data = {name: getattr(game, name) for name in GAME_FIELDS}
    data["opens_at"], data["closes_at"] = game.opens_at.isoformat(), game.closes_at.isoformat()
    data["status"] = game.status
    data["prizes"] = [{"id": p.id, **{k: getattr(p, k) for k in PrizeSpec.__dataclass_fields__},
                       "remaining": p.remaining} for p in game_prizes(session, game.id)]
    return data


def create_game(session: Session, spec: GameSpec, *, actor: audit.Actor, now: datetime) -> InstantWinGame:
    spec = _checked(session, spec)
    game = InstantWinGame(**{k: getattr(spec, k) for k in GAME_FIELDS}, points_given=0, status="draft",
                          created_by=actor.label[:64], created_at=now, updated_at=now)
    session.add(game)
    session.flush()
    _add_prizes(session, game.id, spec.prizes)
    audit.record(session, actor, "instant_win.create", "instant_win_game", game.id, now=now,
                 after=_snapshot(session, game))
    return game


def _add_prizes(session: Session, game_id: int, prizes: Sequence[PrizeSpec], start: int = 0) -> None:
    for n, prize in enumerate(prizes, start=start):
        session.add(InstantWinPrize(game_id=game_id, position=n, remaining=prize.quantity, **asdict(prize)))
    session.flush()


def play_count(session: Session, game_id: int) -> int:
    return session.scalar(select(func.count()).select_from(InstantWinPlay)
                          .where(InstantWinPlay.game_id == game_id)) or 0


def _locked_game(session: Session, game_id: int) -> InstantWinGame:
    game = session.scalar(select(InstantWinGame).where(InstantWinGame.id == game_id).with_for_update()
                          .execution_options(populate_existing=True))
    if game is None:
        raise NotFound("Game not found.", game_id=game_id)
    return game


def update_game(session: Session, game_id: int, spec: GameSpec, *, actor: audit.Actor,
                now: datetime) -> InstantWinGame:
    """Change a game. Before anyone plays everything may change; after, the
    prizes are fixed except that a quantity may be raised (what is left grows by
    as much). An ended game is not edited."""
    game = _locked_game(session, game_id)
    if game.status == "ended":
        raise GameWrongStatus(status=game.status)
    spec = _checked(session, spec)
    if spec.points_budget is not None and spec.points_budget < game.points_given:
        # read under the game's row lock: no play can give more meanwhile
        raise GameInvalid({"points_budget": "budget_below_given"})
    before = _snapshot(session, game)
    prizes = game_prizes(session, game_id)
    if play_count(session, game_id):
        _raise_quantities(session, prizes, spec.prizes)
    else:
        for prize in prizes:
            session.delete(prize)
        session.flush()
        _add_prizes(session, game_id, spec.prizes)
    for name in GAME_FIELDS:
        setattr(game, name, getattr(spec, name))
    game.updated_at = now
    session.flush()
    audit.record(session, actor, "instant_win.update", "instant_win_game", game.id, now=now,
                 before=before, after=_snapshot(session, game))
    return game


def _raise_quantities(session: Session, saved: list[InstantWinPrize], wanted: Sequence[PrizeSpec]) -> None:
    if len(saved) != len(wanted):
        raise GameLocked(game_id=saved[0].game_id if saved else None)
    for prize, spec in zip(saved, wanted, strict=True):
        if any(getattr(prize, k) != getattr(spec, k) for k in PRIZE_LOCKED_FIELDS) or spec.quantity < prize.quantity:
            raise GameLocked(game_id=prize.game_id)
    for prize, spec in zip(saved, wanted, strict=True):
        if spec.quantity > prize.quantity:
            added = spec.quantity - prize.quantity
            # relative, so a play taking one at the same moment is not undone
            session.execute(update(InstantWinPrize).where(InstantWinPrize.id == prize.id)
                            .values(quantity=InstantWinPrize.quantity + added,
                                    remaining=InstantWinPrize.remaining + added)
                            .execution_options(synchronize_session=False))
            session.expire(prize, ["quantity", "remaining"])


def publish_game(session: Session, game_id: int, *, actor: audit.Actor, now: datetime) -> InstantWinGame:
    """Draft → active: members can play from its opening day."""
    game = _locked_game(session, game_id)
    if game.status != "draft" or game.closes_at <= now:
        raise GameWrongStatus(status=game.status, closed=game.closes_at <= now)
    prizes = game_prizes(session, game_id)
    if not prizes:
        raise GameInvalid({"prizes": "prizes_required"})
    engine.check_prizes([_engine_prize(p) for p in prizes])
    return _set_status(session, game, "active", actor=actor, now=now)


def end_game(session: Session, game_id: int, *, actor: audit.Actor, now: datetime) -> InstantWinGame:
    """Stop play at once. What members won stays theirs."""
    game = _locked_game(session, game_id)
    if game.status == "ended":
        raise GameWrongStatus(status=game.status)
    return _set_status(session, game, "ended", actor=actor, now=now)


def _set_status(session, game: InstantWinGame, status: str, *, actor: audit.Actor, now: datetime):
    before = game.status
    game.status, game.updated_at = status, now
    session.flush()
    audit.record(session, actor, f"instant_win.{status}", "instant_win_game", game.id, now=now,
                 before={"status": before}, after={"status": status})
    return game


@dataclass(frozen=True)
class GameStats:
    plays: int = 0
    wins: int = 0
    sold_out: int = 0
    points_spent: int = 0
    wins_by_prize: dict[int, int] = field(default_factory=dict)


def game_stats(session: Session, game_ids: Sequence[int]) -> dict[int, GameStats]:
    """Plays, wins (per prize) and points spent per game, in one grouped query."""
    if not game_ids:
        return {}
    rows = session.execute(
        select(InstantWinPlay.game_id, InstantWinPlay.outcome, InstantWinPlay.prize_id, func.count(),
               func.coalesce(func.sum(InstantWinPlay.points_spent), 0))
        .where(InstantWinPlay.game_id.in_(list(game_ids)))
        .group_by(InstantWinPlay.game_id, InstantWinPlay.outcome, InstantWinPlay.prize_id)
    ).all()
    acc: dict[int, dict] = {}
    for game_id, outcome, prize_id, count, spent in rows:
        a = acc.setdefault(game_id, {"plays": 0, "wins": 0, "sold_out": 0, "points_spent": 0, "wins_by_prize": {}})
        a["plays"] += count
        a["points_spent"] += int(spent)
        if outcome == "won":
            a["wins"] += count
            a["wins_by_prize"][prize_id] = a["wins_by_prize"].get(prize_id, 0) + count
        elif outcome == "sold_out":
            a["sold_out"] += count
    return {game_id: GameStats(**a) for game_id, a in acc.items()}


# -- members: what they see ------------------------------------------------------------


def club_day(now: datetime, tz: str) -> str:
    return now.astimezone(ZoneInfo(tz)).date().isoformat()


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
    left = max(0, game.daily_plays - plays_today(session, game_id, member.id, club_day(now, tz)))
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


def _engine_prize(prize: InstantWinPrize) -> engine.Prize:
    return engine.Prize(id=prize.id, weight=prize.odds_ppm, remaining=prize.remaining)


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
    if member.status != "active":
        raise MemberNotActive(member_id=member_id)
    game = session.get(InstantWinGame, game_id, populate_existing=True)
    if game is None or game.status == "draft":
        raise NotFound("Game not found.", game_id=game_id)
    if not is_open(game, now):
        raise GameClosed(game_id=game_id)
    if not _eligible(session, game, member, now):
        raise NotEligible(game_id=game_id)
    day = club_day(now, tz)
    if plays_today(session, game_id, member_id, day) >= game.daily_plays:
        raise DailyLimitReached(game_id=game_id, limit=game.daily_plays)
    if member.points_balance < game.cost_points:
        raise InsufficientPoints(needed=game.cost_points, balance=member.points_balance)

    prizes = list(session.scalars(select(InstantWinPrize).where(InstantWinPrize.game_id == game_id)
                                  .order_by(InstantWinPrize.position, InstantWinPrize.id)
                                  .execution_options(populate_existing=True)))
    value = roll(ODDS_SCALE)
    spin = engine.spin([_engine_prize(p) for p in prizes], value)
    landed = next((p for p in prizes if spin.landed_on and p.id == spin.landed_on.id), None)
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

    if game.cost_points:
        ledger.spend_points(session, member_id, game.cost_points, key=f"instant_win:{play_row.id}:cost",
                            now=now, source=("instant_win", play_row.id), created_by=f"member:{member_id}",
                            description=f"Instant win: {game.name_en}")
    if spin.won:
        try:
            with session.begin_nested():
                _take_prize(session, game, landed)
                play_row.coupon_id = _give_prize(session, game, landed, play_row, now)
        except (_PrizeGone, rewards.OutOfStock, rewards.RewardUnavailable):
            play_row.outcome, play_row.coupon_id = "sold_out", None
        session.flush()
    if play_row.outcome == "won":
        inbox.post_message(session, member_id=member_id, kind="instant_win", key=f"instant_win:{play_row.id}",
                           now=now, params={"game_id": game_id, "play_id": play_row.id,
                                            "name_fa": game.name_fa, "name_en": game.name_en,
                                            "prize_fa": landed.name_fa, "prize_en": landed.name_en,
                                            "kind": landed.kind, "value": landed.value})
    # every play counts, won or not (the game's daily cap bounds it; rules have their own caps)
    earn_rules.award_for_event(session, member_id=member_id, trigger="instant_win_played",
                               event_key=f"instant_win:{play_row.id}", now=now, tz=tz)
    return PlayResult(play=play_row, prize=landed, replayed=False)


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
    """The prize through the ledger or the catalog; returns the coupon id for a reward."""
    common = {"now": now, "source": ("instant_win", play_row.id), "created_by": "system",
              "description": f"Instant win: {game.name_en}: {prize.name_en}"}
    if prize.kind == "points":
        ledger.award_points(session, play_row.member_id, prize.value, key=f"instant_win:{play_row.id}:prize",
                            **common)
        return None
    if prize.kind == "credit":
        ledger.grant_credit(session, play_row.member_id, prize.value, key=f"instant_win:{play_row.id}:prize",
                            **common)
        return None
    coupon = rewards.grant_reward(session, member_id=play_row.member_id, reward_id=prize.reward_id,
                                  key=f"instant_win:{play_row.id}", now=now)
    return coupon.id


def _play_by_request(session: Session, request_key: str) -> InstantWinPlay | None:
    return session.scalar(select(InstantWinPlay).where(InstantWinPlay.request_key == request_key))


def _replayed(session: Session, existing: InstantWinPlay, member_id: int, game_id: int) -> PlayResult:
    if (existing.member_id, existing.game_id) != (member_id, game_id):
        raise IdempotencyConflict(key=existing.request_key)
    prize = session.get(InstantWinPrize, existing.prize_id) if existing.prize_id else None
    return PlayResult(play=existing, prize=prize, replayed=True)
