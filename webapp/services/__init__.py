"""Domain operations. They add and flush, never commit, and never read the request:
the actor and `now` are arguments (see STYLE.md)."""
