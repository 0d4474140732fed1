"""Instant-win games, the staff side: define a game (draft) with its prizes,
publish it, end it, and the numbers staff see. Prizes are fixed once anyone
has played; their quantities may only be raised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from games import instant_win as engine
from games.instant_win import ODDS_SCALE
from webapp.models import (
    InstantWinGame,
    InstantWinPlay,
    InstantWinPrize,
    Reward,
    Segment,
    Tier,
)
from webapp.services.errors import (
    Conflict,
    NotFound,
    ProblemsInvalid,
)
from webapp.services.members import audit
from webapp.services.play.prizes import PRIZE_KINDS

MAX_NAME = 120
MAX_COST = 10_000_000
MAX_DAILY_PLAYS = 1_000
MAX_PRIZES = 12
MAX_QUANTITY = 10_000_000
MAX_PRIZE_POINTS = 10_000_000
MAX_PRIZE_CREDIT = 10**12
MAX_BUDGET = 10**12
STYLES = ("wheel", "scratch")
# what members play against: fixed once anyone has played (quantities may grow)
PRIZE_LOCKED_FIELDS = ("name_fa", "name_en", "kind", "value", "reward_id", "odds_ppm")


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
        problems["name"] = "a name in both languages is required"
    elif max(len(spec.name_fa), len(spec.name_en)) > MAX_NAME:
        problems["name"] = f"at most {MAX_NAME} characters"
    if spec.style not in STYLES:
        problems["style"] = "unknown style"
    if not _is_int(spec.cost_points) or not 0 <= spec.cost_points <= MAX_COST:
        problems["cost_points"] = "the cost is 0 (free) to 10,000,000 points"
    if not _is_int(spec.daily_plays) or not 0 < spec.daily_plays <= MAX_DAILY_PLAYS:
        problems["daily_plays"] = "between 1 and 1,000 plays a day"
    if spec.opens_at is None or spec.closes_at is None or spec.closes_at <= spec.opens_at:
        problems["closes_at"] = "the game must close after it opens"
    if spec.points_budget is not None and (not _is_int(spec.points_budget)
                                           or not 0 < spec.points_budget <= MAX_BUDGET):
        problems["points_budget"] = "the budget must be a positive whole number"
    for name, model, value in (("min_tier_id", Tier, spec.min_tier_id), ("segment_id", Segment, spec.segment_id)):
        if value is not None and session.get(model, value) is None:
            problems[name] = "not found"
    if len(spec.prizes) > MAX_PRIZES:
        problems["prizes"] = f"at most {MAX_PRIZES} prizes"
    for n, prize in enumerate(spec.prizes):
        problems.update({f"prize-{n}-{k}": v for k, v in _check_prize(session, prize).items()})
    if sum(p.odds_ppm for p in spec.prizes if _is_int(p.odds_ppm)) > ODDS_SCALE:
        problems["odds"] = "the odds add up to more than 100%"
    return problems


def _check_prize(session: Session, prize: PrizeSpec) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not (prize.name_fa or "").strip() or not (prize.name_en or "").strip():
        problems["name"] = "a name in both languages is required"
    elif max(len(prize.name_fa), len(prize.name_en)) > MAX_NAME:
        problems["name"] = f"at most {MAX_NAME} characters"
    if prize.kind not in PRIZE_KINDS:
        problems["kind"] = "unknown kind"
    elif prize.kind == "points" and not (_is_int(prize.value) and 0 < prize.value <= MAX_PRIZE_POINTS):
        problems["value"] = "points between 1 and 10,000,000"
    elif prize.kind == "credit" and not (_is_int(prize.value) and 0 < prize.value <= MAX_PRIZE_CREDIT):
        problems["value"] = "a positive amount of credit"
    elif prize.kind == "reward":
        reward = session.get(Reward, prize.reward_id) if prize.reward_id is not None else None
        if reward is None or reward.status == "archived":
            problems["reward_id"] = "choose a reward from the catalog"
    if not _is_int(prize.odds_ppm) or not 0 < prize.odds_ppm <= ODDS_SCALE:
        problems["odds"] = "above 0 and at most 100%"
    if not _is_int(prize.quantity) or not 0 < prize.quantity <= MAX_QUANTITY:
        problems["quantity"] = "between 1 and 10,000,000"
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
        raise GameInvalid({"points_budget": "the budget cannot be less than the points already given"})
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
        raise GameInvalid({"prizes": "give at least one prize"})
    engine.check_prizes([engine_prize(p) for p in prizes])
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


def engine_prize(prize: InstantWinPrize) -> engine.Prize:
    return engine.Prize(id=prize.id, weight=prize.odds_ppm, remaining=prize.remaining)

