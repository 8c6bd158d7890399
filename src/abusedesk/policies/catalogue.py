"""Load and validate the policy catalogue (YAML).

The shipped catalogue (default.yaml) follows DOMAIN.md §4: a ladder of steps per policy, strikes
that expire, immediate suspension for phishing, compromised credentials and pumping in progress.
`ABUSEDESK_POLICIES_PATH` points at an edited copy. Errors name the policy and the field, so a
bad edit is fixed from the message alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from abusedesk.errors import FormatError, NotFoundError

# The kinds a ladder may propose; block and reinstate are taken by hand, never proposed.
LADDER_KINDS = ("warn", "throttle", "pause", "require_verification", "suspend", "terminate")
SEVERITIES = ("low", "medium", "high", "critical")
# The metrics a probation goal may name; each is defined once, over the lake, in
# probation/metrics.py (a test keeps the two lists equal).
GOAL_METRICS = ("complaint_rate", "bounce_rate", "opt_out_rate", "sms_error_rate")
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")


def parse_duration(text: str) -> timedelta:
    """'30m', '72h', '14d' -> timedelta."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise FormatError(f"duration {text!r} must look like 30m, 72h or 14d")
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(
        unit, timedelta(days=amount)
    )


@dataclass(frozen=True)
class Step:
    """One rung of a ladder: an action kind, with a duration (temporary) or a rate (throttle)."""

    action: str
    duration: timedelta | None = None
    rate_per_min: float | None = None

    def describe(self) -> str:
        text = self.action
        if self.rate_per_min is not None:
            text += f" {self.rate_per_min:g}/min"
        if self.duration is not None:
            hours = self.duration.total_seconds() / 3600
            text += f" for {hours:g} h"
        return text


@dataclass(frozen=True)
class Goal:
    """A probation goal: a metric measured on the lake must stay below a bound."""

    metric: str
    below: float


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    forbids: str
    explanation: str
    remediation: tuple[str, ...]
    appeal_evidence: tuple[str, ...]
    severity: str
    ladder: tuple[Step, ...]
    strike_ttl: timedelta
    probation_days: int = 14
    probation_goals: tuple[Goal, ...] = field(default_factory=tuple)
    # A goal is judged only once its denominator (sends, deliveries) reaches this volume.
    probation_min_volume: int = 100

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "forbids": self.forbids,
            "explanation": self.explanation,
            "remediation": list(self.remediation),
            "appeal_evidence": list(self.appeal_evidence),
            "severity": self.severity,
            "strike_ttl_days": self.strike_ttl.days,
            "ladder": [s.describe() for s in self.ladder],
            "probation": {
                "days": self.probation_days,
                "min_volume": self.probation_min_volume,
                "goals": [{"metric": g.metric, "below": g.below} for g in self.probation_goals],
            },
        }


class Catalogue:
    def __init__(self, policies: dict[str, Policy], source: str) -> None:
        self.policies = policies
        self.source = source

    def get(self, policy_id: str) -> Policy:
        policy = self.policies.get(policy_id)
        if policy is None:
            known = ", ".join(sorted(self.policies))
            raise NotFoundError(f"no policy {policy_id!r} in {self.source}; known: {known}")
        return policy

    def __iter__(self) -> Any:
        return iter(self.policies.values())

    def __len__(self) -> int:
        return len(self.policies)


def default_catalogue_path() -> Path:
    return Path(str(resources.files("abusedesk.policies") / "default.yaml"))


def load_catalogue(path: Path | None = None) -> Catalogue:
    source = path or default_catalogue_path()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FormatError(f"cannot read the policy catalogue {source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise FormatError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("policies"), list):
        raise FormatError(f"{source}: expected a mapping with a 'policies' list")
    policies: dict[str, Policy] = {}
    for index, item in enumerate(raw["policies"]):
        policy = _policy(item, f"{source}: policies[{index}]")
        if policy.id in policies:
            raise FormatError(f"{source}: policy {policy.id!r} is defined twice")
        policies[policy.id] = policy
    return Catalogue(policies, str(source))


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{where}: '{key}' must be a non-empty text")
    return value.strip()


def _texts(item: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = item.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{where}: '{key}' must be a non-empty list of texts")
    return tuple(v.strip() for v in value)


def _step(raw: Any, where: str) -> Step:
    if isinstance(raw, str):
        raw = {"action": raw}
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: a ladder step is an action name or a mapping")
    action = raw.get("action")
    if action not in LADDER_KINDS:
        raise FormatError(f"{where}: action {action!r} is not one of {', '.join(LADDER_KINDS)}")
    duration = parse_duration(str(raw["duration"])) if raw.get("duration") else None
    rate = raw.get("rate_per_min")
    if action == "throttle" and not isinstance(rate, int | float):
        raise FormatError(f"{where}: a throttle step needs rate_per_min")
    return Step(action, duration, float(rate) if rate is not None else None)


def _policy(item: Any, where: str) -> Policy:
    if not isinstance(item, dict):
        raise FormatError(f"{where}: a policy is a mapping")
    policy_id = _text(item, "id", where)
    where = f"{where} ({policy_id})"
    severity = _text(item, "severity", where)
    if severity not in SEVERITIES:
        raise FormatError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    ladder_raw = item.get("ladder")
    if not isinstance(ladder_raw, list) or not ladder_raw:
        raise FormatError(f"{where}: 'ladder' must list at least one step")
    ladder = tuple(_step(s, f"{where}: ladder[{i}]") for i, s in enumerate(ladder_raw))
    probation = item.get("probation") or {}
    if not isinstance(probation, dict):
        raise FormatError(f"{where}: 'probation' is a mapping with days and goals")
    goals = tuple(
        _goal(g, f"{where}: probation.goals[{i}]")
        for i, g in enumerate(probation.get("goals", []) or [])
    )
    days, min_volume = probation.get("days", 14), probation.get("min_volume", 100)
    if not isinstance(days, int) or days <= 0:
        raise FormatError(f"{where}: probation.days must be a positive whole number")
    if not isinstance(min_volume, int) or min_volume < 0:
        raise FormatError(f"{where}: probation.min_volume must be a whole number >= 0")
    return Policy(
        id=policy_id,
        title=_text(item, "title", where),
        forbids=_text(item, "forbids", where),
        explanation=_text(item, "explanation", where),
        remediation=_texts(item, "remediation", where),
        appeal_evidence=_texts(item, "appeal_evidence", where),
        severity=severity,
        ladder=ladder,
        strike_ttl=parse_duration(str(item.get("strike_ttl", "90d"))),
        probation_days=days,
        probation_goals=goals,
        probation_min_volume=min_volume,
    )


def _goal(raw: Any, where: str) -> Goal:
    if not isinstance(raw, dict):
        raise FormatError(f"{where}: a goal is a mapping {{metric, below}}")
    metric, below = raw.get("metric"), raw.get("below")
    if metric not in GOAL_METRICS:
        raise FormatError(f"{where}: metric {metric!r} is not one of {', '.join(GOAL_METRICS)}")
    if not isinstance(below, int | float) or isinstance(below, bool) or not 0 < below <= 1:
        raise FormatError(f"{where}: below must be a rate between 0 and 1, e.g. 0.02 for 2 %")
    return Goal(str(metric), float(below))
