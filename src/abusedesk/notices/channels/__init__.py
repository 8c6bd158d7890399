"""Notice channels for the outbox: one file per channel (smtp.py, zendesk.py)."""
