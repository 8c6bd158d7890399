"""Users, roles and the tokens that carry them, on the real store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from abusedesk.auth.roles import DEFAULT_PERMISSIONS
from abusedesk.auth.tokens import authenticate, do_create_token, do_revoke_token
from abusedesk.auth.users import do_create_user, do_disable_user, list_users
from abusedesk.errors import AuthError, ConflictError, InputError, NotFoundError
from abusedesk.storage.models import AuditEntry, Role, User
from abusedesk.workspace import Workspace


def test_the_seeded_roles_are_the_ones_the_code_knows(workspace: Workspace) -> None:
    with workspace.store.sessions() as session:
        seeded = {r.name: frozenset(r.permissions) for r in session.execute(select(Role)).scalars()}
    assert seeded == DEFAULT_PERMISSIONS


def test_a_users_token_carries_the_users_role(workspace: Workspace) -> None:
    ws = workspace
    do_create_user(ws.store, ws.clock, username="vic", role="viewer", actor="admin")
    token, _ = do_create_token(ws.store, ws.clock, name="laptop", user="vic", actor="admin")
    principal = authenticate(ws.store, token)
    assert principal.name == "user:vic"
    assert principal.role == "viewer"
    assert principal.can("accounts:read")
    assert not principal.can("pii:read")
    # A role change applies to the tokens at once.
    with ws.store.transaction() as session:
        session.execute(select(User).where(User.username == "vic")).scalar_one().role = "analyst"
    assert authenticate(ws.store, token).can("pii:read")


def test_a_disabled_user_is_refused_and_audited(workspace: Workspace) -> None:
    ws = workspace
    do_create_user(ws.store, ws.clock, username="dan", role="lead", actor="admin")
    token, _ = do_create_token(ws.store, ws.clock, name="t", user="dan", actor="admin")
    do_disable_user(ws.store, ws.clock, username="dan", actor="admin", reason="left the team")
    with pytest.raises(AuthError, match="unknown or revoked"):
        authenticate(ws.store, token)
    with pytest.raises(ConflictError):
        do_create_token(ws.store, ws.clock, name="t2", user="dan", actor="admin")
    with pytest.raises(ConflictError):
        do_disable_user(ws.store, ws.clock, username="dan", actor="admin")
    with ws.store.sessions() as session:
        actions = [
            (a.action, a.object_id, a.reason)
            for a in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
        ]
    assert ("user.create", "dan", None) in actions
    assert ("user.disable", "dan", "left the team") in actions


def test_user_input_is_checked(workspace: Workspace) -> None:
    ws = workspace
    with pytest.raises(InputError, match="unknown role"):
        do_create_user(ws.store, ws.clock, username="x", role="ingest", actor="a")
    with pytest.raises(InputError, match="must be 1 to 64"):
        do_create_user(ws.store, ws.clock, username="Bad Name", role="viewer", actor="a")
    do_create_user(ws.store, ws.clock, username="amy", role="admin", actor="a")
    with pytest.raises(ConflictError):
        do_create_user(ws.store, ws.clock, username="amy", role="viewer", actor="a")
    with pytest.raises(NotFoundError):
        do_create_token(ws.store, ws.clock, name="t", user="nobody", actor="a")
    with pytest.raises(InputError, match="carries the user's role"):
        do_create_token(ws.store, ws.clock, name="t", user="amy", role="viewer", actor="a")


def test_list_pages_by_id_and_counts_live_tokens(workspace: Workspace) -> None:
    ws = workspace
    for name in ("u1", "u2", "u3"):
        do_create_user(ws.store, ws.clock, username=name, role="viewer", actor="a")
    _, token_id = do_create_token(ws.store, ws.clock, name="t", user="u2", actor="a")
    do_create_token(ws.store, ws.clock, name="t2", user="u2", actor="a")
    do_revoke_token(ws.store, ws.clock, token_id=token_id, actor="a")
    first = list_users(ws.store, limit=2)
    rest = list_users(ws.store, after_id=first[-1].id, limit=2)
    assert [u.username for u in first + rest] == ["u1", "u2", "u3"]
    assert [u.tokens for u in first + rest] == [0, 1, 0]
