"""The queue book: work queues read from a YAML file (shipped default: cases/queues.yaml).

Each queue names the roles that may work it, its SLA by priority (first response and
resolution), optional business hours its clocks count in, the routes that send cases to it and
where escalations go. The file is checked as a whole when loaded; a mistake names the queue and
the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from abusedesk.cases.states import PRIORITIES, SOURCES
from abusedesk.errors import ConfigError, InputError

_DURATION: Final = re.compile(r"^(\d+)([mhd])$")
_UNITS: Final = {"m": "minutes", "h": "hours", "d": "days"}
_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Sla:
    first_response: timedelta
    resolution: timedelta


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Working time the SLA clocks count: these weekdays, start to end, in this zone."""

    zone: ZoneInfo
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Route:
    """Facts a case must have to land in the queue; a field left out matches anything."""

    policies: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    account: tuple[tuple[str, frozenset[str]], ...] = ()

    def matches(self, *, policy: str, severity: str, source: str, account: dict[str, Any]) -> bool:
        if self.policies and policy not in self.policies:
            return False
        if self.severities and severity not in self.severities:
            return False
        if self.sources and source not in self.sources:
            return False
        return all(str(account.get(name)) in values for name, values in self.account)


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    description: str
    roles: frozenset[str]
    sla: dict[str, Sla]
    routes: tuple[Route, ...] = ()
    escalate_to: str | None = None
    business_hours: BusinessHours | None = None

    def to_json(self) -> dict[str, Any]:
        hours = self.business_hours
        return {
            "name": self.name,
            "description": self.description,
            "roles": sorted(self.roles),
            "escalate_to": self.escalate_to,
            "sla": {
                p: {
                    "first_response_s": int(s.first_response.total_seconds()),
                    "resolution_s": int(s.resolution.total_seconds()),
                }
                for p, s in self.sla.items()
            },
            "business_hours": None
            if hours is None
            else {
                "timezone": str(hours.zone),
                "days": [_DAYS[d] for d in sorted(hours.days)],
                "start": hours.start.strftime("%H:%M"),
                "end": hours.end.strftime("%H:%M"),
            },
        }


@dataclass(frozen=True)
class QueueBook:
    queues: dict[str, Queue]
    default: str
    path: str = ""
    order: tuple[str, ...] = field(default=())

    def get(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            raise ConfigError(f"no queue {name!r} in {self.path}; known: {', '.join(self.order)}")
        return queue

    def asked(self, name: str) -> Queue:
        """A queue a user named: an unknown name is their input error, not the server's."""
        queue = self.queues.get(name)
        if queue is None:
            raise InputError(f"no queue {name!r}; known: {', '.join(self.order)}")
        return queue

    def workable_by(self, role: str) -> list[str]:
        return [n for n in self.order if role in self.queues[n].roles or role == "admin"]

    def route(
        self,
        *,
        policy: str,
        severity: str,
        source: str,
        account: dict[str, Any],
        suggested: str | None = None,
    ) -> str:
        """The queue a case goes to: the first matching route, else the queue its rule named
        (when the book has it), else the default queue."""
        for name in self.order:
            for route in self.queues[name].routes:
                if route.matches(policy=policy, severity=severity, source=source, account=account):
                    return name
        if suggested is not None and suggested in self.queues:
            return suggested
        return self.default


def default_path() -> Path:
    return Path(str(resources.files("abusedesk.cases") / "queues.yaml"))


def load_queues(path: Path | None = None) -> QueueBook:
    path = path or default_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the queue file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_queues(raw, str(path))


def parse_queues(raw: Any, where: str) -> QueueBook:
    if not isinstance(raw, dict) or not isinstance(raw.get("queues"), list) or not raw["queues"]:
        raise ConfigError(f"{where}: expected a mapping with a non-empty `queues` list")
    queues: dict[str, Queue] = {}
    for index, item in enumerate(raw["queues"]):
        queue = _queue(item, f"{where}: queues[{index}]")
        if queue.name in queues:
            raise ConfigError(f"{where}: queue {queue.name!r} is declared twice")
        queues[queue.name] = queue
    default = str(raw.get("default", "general"))
    if default not in queues:
        raise ConfigError(f"{where}: default queue {default!r} is not declared")
    for queue in queues.values():
        if queue.escalate_to is not None and queue.escalate_to not in queues:
            raise ConfigError(
                f"{where}: queue {queue.name!r} escalates to {queue.escalate_to!r}, "
                "which is not declared"
            )
    return QueueBook(queues, default, where, tuple(queues))


def _queue(item: Any, where: str) -> Queue:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ConfigError(f"{where}: each queue needs a `name`")
    where = f"{where} ({item['name']})"
    sla_raw = item.get("sla")
    if not isinstance(sla_raw, dict) or set(sla_raw) != set(PRIORITIES):
        raise ConfigError(f"{where}: `sla` must give {', '.join(PRIORITIES)}")
    sla = {}
    for priority, value in sla_raw.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: sla.{priority} needs first_response and resolution")
        sla[priority] = Sla(
            duration(value.get("first_response"), f"{where}: sla.{priority}.first_response"),
            duration(value.get("resolution"), f"{where}: sla.{priority}.resolution"),
        )
    roles = item.get("roles")
    if not isinstance(roles, list) or not roles:
        raise ConfigError(f"{where}: `roles` must list the roles that may work the queue")
    routes = tuple(_route(r, f"{where}: routes[{i}]") for i, r in enumerate(item.get("routes", [])))
    hours = item.get("business_hours")
    return Queue(
        name=item["name"],
        description=str(item.get("description", "")),
        roles=frozenset(str(r) for r in roles),
        sla=sla,
        routes=routes,
        escalate_to=item.get("escalate_to"),
        business_hours=None if hours is None else _hours(hours, f"{where}: business_hours"),
    )


def _route(item: Any, where: str) -> Route:
    known = {"policy", "severity", "source", "account"}
    if not isinstance(item, dict) or not item or set(item) - known:
        raise ConfigError(f"{where}: a route is a mapping of {', '.join(sorted(known))}")
    sources = frozenset(item.get("source", []))
    if sources - set(SOURCES):
        raise ConfigError(f"{where}: source must be among {', '.join(SOURCES)}")
    account = item.get("account", {})
    if not isinstance(account, dict):
        raise ConfigError(f"{where}: `account` maps account fields to accepted values")
    return Route(
        policies=frozenset(item.get("policy", [])),
        severities=frozenset(item.get("severity", [])),
        sources=sources,
        account=tuple((k, frozenset(str(v) for v in vs)) for k, vs in sorted(account.items())),
    )


def _hours(item: Any, where: str) -> BusinessHours:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected timezone, days, start and end")
    try:
        zone = ZoneInfo(str(item.get("timezone", "UTC")))
        start = time.fromisoformat(str(item["start"]))
        end = time.fromisoformat(str(item["end"]))
    except (KeyError, ValueError, ZoneInfoNotFoundError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    days = item.get("days", list(_DAYS[:5]))
    if not isinstance(days, list) or not set(days) <= set(_DAYS) or start >= end:
        raise ConfigError(f"{where}: days among {', '.join(_DAYS)}, and start before end")
    return BusinessHours(zone, frozenset(_DAYS.index(d) for d in days), start, end)


def duration(value: Any, where: str) -> timedelta:
    match = _DURATION.match(str(value or ""))
    if match is None:
        raise ConfigError(f"{where}: expected a duration like 30m, 4h or 2d, not {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
