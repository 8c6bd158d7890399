"""API tokens: shown once at creation, stored as a SHA-256 hash, looked up by hash.

Tokens are 32 random bytes (urlsafe) behind a readable prefix `adk_`; a hash of that much
entropy needs no salt or slow KDF, and a constant-time lookup by hash keeps the check cheap on
the decision hot path.

A token either belongs to a user (`--user NAME`) and carries that user's role, read at every
check, so a disabled user's tokens stop working and a changed role applies at once; or it is a
service credential with its own role (`ingest` for the senders of events).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from abusedesk.clock import Clock
from abusedesk.errors import AuthError, ConflictError, InputError, NotFoundError
from abusedesk.storage.audit import write_audit
from abusedesk.storage.db import Store
from abusedesk.storage.models import ApiToken, Role, User

PREFIX = "adk_"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token or a console user, with the role's permissions."""

    name: str
    role: str
    permissions: frozenset[str]
    token_id: int | None = None
    user_id: int | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions or "admin" in self.permissions


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(
    store: Store,
    clock: Clock,
    *,
    name: str,
    actor: str,
    role: str | None = None,
    user: str | None = None,
) -> tuple[str, int]:
    """Create a token; returns (the token, shown only now; its id).

    With `user`, the token is that user's and carries their role (`role` must then be unset or
    the same); without, it is a service token of `role`."""
    name = name.strip()
    if not name or len(name) > 128:
        raise InputError("token name must be 1 to 128 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    with store.transaction() as session:
        owner: User | None = None
        if user is not None:
            owner = session.execute(select(User).where(User.username == user)).scalar_one_or_none()
            if owner is None:
                raise NotFoundError(f"no user named {user!r}")
            if owner.disabled:
                raise ConflictError(f"user {user!r} is disabled")
            if role is not None and role != owner.role:
                raise InputError(
                    f"a user's token carries the user's role ({owner.role}); leave --role out"
                )
            role = owner.role
        if role is None:
            raise InputError("give a role for a service token, or a user the token is for")
        if session.get(Role, role) is None:
            roles = ", ".join(session.execute(select(Role.name)).scalars())
            raise InputError(f"unknown role {role!r}; expected one of {roles}")
        row = ApiToken(
            name=name,
            prefix=token[:10],
            token_hash=hash_token(token),
            role=role,
            user_id=None if owner is None else owner.id,
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        write_audit(
            session,
            clock,
            actor=actor,
            action="token.create",
            object_type="api_token",
            object_id=str(row.id),
            after={"name": name, "role": role, "prefix": row.prefix, "user": user},
        )
        return token, row.id


def do_revoke_token(store: Store, clock: Clock, *, token_id: int, actor: str) -> None:
    with store.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"no token with id {token_id}")
        before = {"revoked_at": None if row.revoked_at is None else row.revoked_at.isoformat()}
        row.revoked_at = clock.now()
        write_audit(
            session,
            clock,
            actor=actor,
            action="token.revoke",
            object_type="api_token",
            object_id=str(token_id),
            before=before,
            after={"revoked_at": row.revoked_at.isoformat()},
        )


def authenticate(store: Store, token: str | None) -> Principal:
    """The principal behind a bearer token; AuthError when it is missing, unknown, revoked or
    belongs to a disabled user (the same message for all three, so a caller learns nothing)."""
    if not token:
        raise AuthError("missing credentials: send Authorization: Bearer <token>")
    if not token.startswith(PREFIX):
        raise AuthError("unknown or revoked token")
    user_role = aliased(Role)
    with store.sessions() as session:
        row = session.execute(
            select(ApiToken, Role.permissions, User, user_role.permissions)
            .join(Role, Role.name == ApiToken.role)
            .outerjoin(User, User.id == ApiToken.user_id)
            .outerjoin(user_role, user_role.name == User.role)
            .where(ApiToken.token_hash == hash_token(token))
        ).first()
    if row is None or row[0].revoked_at is not None:
        raise AuthError("unknown or revoked token")
    api_token, token_permissions, user, user_permissions = row
    if user is not None:
        if user.disabled:
            raise AuthError("unknown or revoked token")
        return Principal(
            name=f"user:{user.username}",
            role=user.role,
            permissions=frozenset(user_permissions or []),
            token_id=api_token.id,
            user_id=user.id,
        )
    return Principal(
        name=f"token:{api_token.name}",
        role=api_token.role,
        permissions=frozenset(token_permissions or []),
        token_id=api_token.id,
    )


def list_tokens(store: Store) -> list[ApiToken]:
    with store.sessions() as session:
        return list(session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())
