"""Staff pages for challenges (under /admin)."""
