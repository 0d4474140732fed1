"""Helpers shared by test modules (a test module never imports another one):
`web` drives the site like a browser, `threads` releases many sessions at once,
`referrals` and `raffles` act the way members and tills do. Rows to start from
are made by `tests.factories`."""
