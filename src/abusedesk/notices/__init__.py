"""INFORM: customer notices. evidence.py (what the case shows, made safe to tell) ->
render.py (Jinja2 templates per policy and action; placeholders that block sending) ->
services.py (preview, do_send_notice through the outbox) -> channels/ (SMTP, Zendesk)."""
