"""The string-keyed registry of every game kind (like CTFd's CHALLENGE_CLASSES):
quiz and prediction (contest kinds), raffle and instant win.

An entry (`kinds.GameKind`) declares its label, staff forms, templates, play
actions, settings check and board text; a contest kind also how its entries
are scored and when it is due. Views and services look the kind up here: no
`if kind == …` outside the adapters and the engines.

Adding a game kind: an engine module in `games/`, an adapter module (a
`kinds.ContestKind` subclass) with its templates, and one `register(...)` line
in `_register_builtin` (README, "Adding a game kind")."""

from __future__ import annotations

from webapp.services.play.kinds import ContestKind, GameKind

GAME_KINDS: dict[str, GameKind] = {}


def register(game_kind: GameKind) -> GameKind:
    if game_kind.kind in GAME_KINDS:
        raise ValueError(f"game kind {game_kind.kind!r} is already registered")
    GAME_KINDS[game_kind.kind] = game_kind
    return game_kind


def get(kind: str) -> GameKind:
    """The adapter of `kind`; KeyError for an unknown kind (a bug or an old row)."""
    return GAME_KINDS[kind]


def get_type(kind: str) -> ContestKind:
    """The adapter of a contest kind (a Contest row's `kind`)."""
    game_kind = GAME_KINDS[kind]
    if not isinstance(game_kind, ContestKind):
        raise KeyError(kind)
    return game_kind


def kinds(family: str | None = None) -> tuple[str, ...]:
    """The registered kinds in registration order, or those of one family."""
    return tuple(k for k, v in GAME_KINDS.items() if family is None or v.family == family)


def labels(family: str | None = None) -> dict[str, str]:
    return {k: GAME_KINDS[k].label for k in kinds(family)}


def tabs() -> list[tuple[str, str, str]]:
    """The member's Play tabs, one per page however many kinds share it."""
    pages: dict[str, tuple[str, str, str]] = {}
    for game_kind in GAME_KINDS.values():
        pages.setdefault(game_kind.tab[0], game_kind.tab)
    return list(pages.values())


def _register_builtin() -> None:
    from webapp.services.play import prediction, quiz
    from webapp.services.play.instant_win.adapter import InstantWinKind
    from webapp.services.play.raffles.adapter import RaffleKind

    register(quiz.QuizType())
    register(prediction.PredictionType())
    register(RaffleKind())
    register(InstantWinKind())


_register_builtin()
