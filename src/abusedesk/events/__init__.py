"""INGEST: the canonical event schema, format adapters, validation with quarantine, the lake writer."""
