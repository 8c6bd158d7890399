"""APPEAL: a customer's appeal of an action, worked as its own case (services.py), opened from
the API, the CLI or a reply to the notice by email (email_reply.py)."""
