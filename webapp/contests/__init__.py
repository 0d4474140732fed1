"""Contest kinds, CTFd-style: each kind is one engine module in `games/` plus
one adapter here, registered under its string `kind` in `registry`."""
