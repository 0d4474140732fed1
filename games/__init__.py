"""Pure game engines: quiz and prediction scoring, raffle draws, instant-win odds,
streaks, leaderboard ranking rules.

Standard library only. Nothing here imports flask, sqlalchemy, redis, rq or
webapp (a test enforces it): inputs and outputs are frozen dataclasses, and time
and randomness are parameters, so every engine is testable on its own and
`webapp/` adapts it (persistence, HTTP, jobs).
"""
