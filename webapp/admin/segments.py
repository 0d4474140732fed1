"""Staff pages for segments (under /admin)."""
