"""Instant-win games (spin the wheel, scratch card) around the pure engine
`games.instant_win`: `setup` (staff: define, publish, end; the numbers),
`playing` (members: what they may play, and a play), `odds` (odds as typed).

Staff define a game (draft) with prizes whose odds are parts per million laid
end to end, publish it, and end it. Prizes are fixed once anyone has played;
their quantities may only be raised.

A play is one transaction in a fixed order: lock the member (their plays queue
up, so the daily cap and the balance are race-free), check the game, the
eligibility, the daily cap and the balance, roll (the server's roll, never the
browser's), take the prize with a guarded UPDATE (losing that race, or the
game's points budget, is SOLD_OUT: no win, and the odds of the other prizes do
not move), record the play under its unique request key, then charge the cost
and give the prize through `prizes.give` with keys derived from the play id.
Any refusal raises and the caller's rollback undoes it all."""

# the public names, as before the split into modules
from games.instant_win import ODDS_SCALE
from webapp.services.play.instant_win import odds, playing, setup
from webapp.services.play.instant_win.odds import (
    odds_text,
    one_in,
    parse_odds,
)
from webapp.services.play.instant_win.playing import (
    DailyLimitReached,
    GameClosed,
    GameView,
    NotEligible,
    PlayResult,
    Roll,
    is_open,
    member_game,
    member_play,
    member_plays,
    open_games,
    play,
    plays_today,
)
from webapp.services.play.instant_win.setup import (
    GAME_FIELDS,
    MAX_BUDGET,
    MAX_COST,
    MAX_DAILY_PLAYS,
    MAX_NAME,
    MAX_PRIZE_CREDIT,
    MAX_PRIZE_POINTS,
    MAX_PRIZES,
    MAX_QUANTITY,
    PRIZE_KINDS,
    PRIZE_LOCKED_FIELDS,
    STYLES,
    GameInvalid,
    GameLocked,
    GameSpec,
    GameStats,
    GameWrongStatus,
    PrizeSpec,
    check_spec,
    create_game,
    end_game,
    engine_prize,
    game_prizes,
    game_stats,
    play_count,
    publish_game,
    update_game,
)

__all__ = [
    "ODDS_SCALE", "odds", "playing", "setup", "parse_odds", "one_in", "odds_text", "MAX_NAME", "MAX_COST",
    "MAX_DAILY_PLAYS", "MAX_PRIZES", "MAX_QUANTITY", "MAX_PRIZE_POINTS", "MAX_PRIZE_CREDIT", "MAX_BUDGET",
    "STYLES", "PRIZE_KINDS", "PRIZE_LOCKED_FIELDS", "GameInvalid", "GameLocked", "GameWrongStatus",
    "PrizeSpec", "GameSpec", "check_spec", "GAME_FIELDS", "game_prizes", "create_game", "play_count",
    "update_game", "publish_game", "end_game", "GameStats", "game_stats", "engine_prize", "Roll",
    "GameClosed", "NotEligible", "DailyLimitReached", "is_open", "open_games", "plays_today",
    "GameView", "member_game", "member_plays", "member_play", "PlayResult", "play",
]
