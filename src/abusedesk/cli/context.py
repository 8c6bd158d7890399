"""Builds the workspace for a command from the environment (ABUSEDESK_* settings)."""

from __future__ import annotations

from pydantic import ValidationError

from abusedesk.errors import ConfigError
from abusedesk.logs import configure
from abusedesk.settings import Settings
from abusedesk.workspace import Workspace


def workspace() -> Workspace:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "ABUSEDESK_" + str(first["loc"][0]).upper() if first["loc"] else "setting"
        raise ConfigError(f"{name}: {first['msg']}") from None
    configure(settings.log_level)
    return Workspace(settings)
