"""The HTTP API (FastAPI): ingest, decisions, cases, actions, reports. OpenAPI at /docs."""
