"""Investigation: account 360, linked accounts and entity pivots, read-only over the store and
the lake. Results are plain dicts for the API and the CLI, which pass them through
`auth.pii.disclose` before they leave."""
