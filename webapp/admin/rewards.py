"""Staff pages for rewards (under /admin)."""
