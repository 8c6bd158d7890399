"""ACT: enforcement actions, their real-time effect, and telling the platform.

kinds.py (what an action may be) -> services.py (do_take_action, do_reverse_action,
do_expire_actions) -> state.py (the account's state from its active actions; the in-memory
restriction index the decision API reads) -> outbox.py / signing.py / delivery.py (webhooks
through a persistent outbox) -> bulk.py (plan, approve, run, roll back many at once).
"""
