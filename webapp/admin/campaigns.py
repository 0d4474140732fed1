"""Staff pages for campaigns (under /admin)."""
