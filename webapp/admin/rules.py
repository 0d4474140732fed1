"""Staff pages for rules (under /admin)."""
