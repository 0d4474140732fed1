"""Members and the people around them: accounts (sign-up, identity, passwords),
staff and API keys, the audit log of staff actions, and the member's inbox."""
