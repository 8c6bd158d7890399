"""Format adapters: each turns one outside format into canonical event objects (docs/formats.md)."""
