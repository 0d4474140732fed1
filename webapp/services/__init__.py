"""Domain operations, one package per domain: `ledger`, `tiers`, `offers`, `play`,
`referrals`, `members`, plus the club-wide `settings`, `maintenance` and
`errors`. They add and flush, never commit, and never read the request: the
actor and `now` are arguments (see STYLE.md)."""
