"""The play domain: every game a member plays and how it pays out.

`registry` maps a game kind to its adapter (`quiz`, `prediction`; `timing` is
their shared clock); `contests` (staff side), `contest_play` (answering),
`contest_results` (final ranks and prizes) with `leaderboards` (Redis boards);
`raffles` (commit-reveal draws) and `instant_win`; `prizes` gives every prize
of any game (points, credit or a catalog reward), once per key."""
