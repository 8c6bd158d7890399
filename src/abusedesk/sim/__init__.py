"""The traffic simulator: deterministic platform traffic with ground truth, for `demo`, tests,
benchmarks and detection evaluation. See docs/simulator.md.

The public names are loaded on first use, so `abusedesk --help` does not pay for phonenumbers
and the scenario modules.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from abusedesk.sim.evaluate import EvalReport, FlaggedAccount, evaluate_detection, render_text
    from abusedesk.sim.generator import SimSummary, generate

__all__ = [
    "EvalReport",
    "FlaggedAccount",
    "SimSummary",
    "evaluate_detection",
    "generate",
    "render_text",
]

_HOME = {
    "EvalReport": "evaluate",
    "FlaggedAccount": "evaluate",
    "evaluate_detection": "evaluate",
    "render_text": "evaluate",
    "SimSummary": "generator",
    "generate": "generator",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"abusedesk.sim.{_HOME[name]}"), name)
    raise AttributeError(f"module 'abusedesk.sim' has no attribute {name!r}")
