"""Who may do what: users, roles with permissions, API tokens (stored hashed)."""
