"""INGEST: the canonical event schema, format adapters, the adapter loop with quarantine, a
run's bookkeeping, the registry of accounts and entities."""
