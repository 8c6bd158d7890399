"""People who use the desk: create, list, disable (`do_*` services, each audited).

A user has one role (`viewer`, `analyst`, `lead`, `admin`); their API tokens carry it, looked
up at every check, so changing or disabling the user changes what their tokens may do without
touching the tokens. No passwords are stored yet: people reach the API with tokens made for
them (`abusedesk tokens create --user NAME`); console sign-in is planned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from abusedesk.auth.roles import PERSON_ROLES
from abusedesk.clock import Clock
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.storage.audit import write_audit
from abusedesk.storage.db import Store
from abusedesk.storage.models import ApiToken, User

_USERNAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class UserView:
    """A user as read paths show it (never a password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    created_at: datetime
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
            "tokens": self.tokens,
        }


def _check_role(role: str) -> None:
    if role not in PERSON_ROLES:
        raise InputError(f"unknown role {role!r}; a user is one of {', '.join(PERSON_ROLES)}")


def do_create_user(
    store: Store,
    clock: Clock,
    *,
    username: str,
    role: str,
    actor: str,
    display_name: str | None = None,
) -> int:
    """Create a user; returns its id. Usernames are lower-case letters, digits, `.`, `_`, `-`."""
    username = username.strip()
    if not _USERNAME.match(username):
        raise InputError(
            f"username {username!r} must be 1 to 64 lower-case letters, digits, '.', '_' or '-'"
        )
    _check_role(role)
    name = (display_name or username).strip()[:256]
    try:
        with store.transaction() as session:
            row = User(
                username=username,
                display_name=name,
                role=role,
                password_hash=None,
                disabled=False,
                created_at=clock.now(),
            )
            session.add(row)
            session.flush()
            write_audit(
                session,
                clock,
                actor=actor,
                action="user.create",
                object_type="user",
                object_id=username,
                after={"role": role, "display_name": name},
            )
            return row.id
    except IntegrityError:
        raise ConflictError(f"a user named {username!r} exists already") from None


def do_disable_user(
    store: Store, clock: Clock, *, username: str, actor: str, reason: str | None = None
) -> None:
    """Disable a user: their tokens are refused from the next check on (within the API's
    token cache time, ABUSEDESK_API_AUTH_CACHE_S)."""
    with store.transaction() as session:
        row = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no user named {username!r}")
        if row.disabled:
            raise ConflictError(f"user {username!r} is disabled already")
        row.disabled = True
        write_audit(
            session,
            clock,
            actor=actor,
            action="user.disable",
            object_type="user",
            object_id=username,
            reason=reason,
            before={"disabled": False},
            after={"disabled": True},
        )


def find_user(store: Store, username: str) -> User:
    with store.sessions() as session:
        row = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no user named {username!r}")
    return row


def list_users(store: Store, *, after_id: int = 0, limit: int = 100) -> list[UserView]:
    """Users in id order after `after_id` (the API's cursor), at most `limit`."""
    from sqlalchemy import func

    counts = (
        select(ApiToken.user_id, func.count().label("n"))
        .where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)
        .subquery()
    )
    with store.sessions() as session:
        rows = session.execute(
            select(User, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.user_id == User.id)
            .where(User.id > after_id)
            .order_by(User.id)
            .limit(limit)
        ).all()
    return [
        UserView(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            disabled=u.disabled,
            created_at=u.created_at,
            tokens=int(n),
        )
        for u, n in rows
    ]
