"""What the case layer knows about a rule: plain data, whatever produced the match.

Detection's rule specs stay in detection; the pipeline turns each matched rule into a
`RuleInfo` (pipeline/signals.py), so cases never import the rule engine and a signal from
another source (a model, a manual flag, an import) can open a case the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a case opened by the rule goes: its queue and priority (P1 most urgent)."""

    queue: str = "general"
    priority: str = "P3"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as a signal carries it: `mode` "live" opens cases (when `case` routes them),
    "shadow" only records; `severity` and `verdict` are copied onto the signal; `when` is the
    condition's text, for people reading the evidence."""

    id: str
    description: str
    policy: str
    severity: str
    verdict: str
    mode: str = "live"
    case: Routing | None = Routing()
    when: str = ""
