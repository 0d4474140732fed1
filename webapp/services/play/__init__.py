"""The play domain: every game a member plays and how it pays out.

`registry` holds every game kind (`kinds` is what an entry declares): the
contest kinds `quiz` and `prediction` (`timing` is their shared clock) with
`contests` (staff side), `contest_play` (playing), `contest_results` (final
ranks and prizes) and `leaderboards` (Redis boards); `raffles/` (commit-reveal
draws: setup, entries, draw) and `instant_win/` (setup, playing, odds), each
with its registry `adapter`; `prizes` gives every prize of any game (points,
credit or a catalog reward), once per key."""
