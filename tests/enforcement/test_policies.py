"""The policy catalogue and its ladders: the shipped catalogue loads, bad edits are named, and
the ladder proposes the next step from live strikes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from abusedesk.errors import FormatError, NotFoundError
from abusedesk.policies.catalogue import load_catalogue
from abusedesk.policies.ladder import propose

from .helpers import T0


def test_shipped_catalogue_covers_every_playbook_policy() -> None:
    catalogue = load_catalogue()
    playbook = Path(__file__).resolve().parents[2] / "src/abusedesk/detection/playbook"
    used = set()
    for path in playbook.glob("*.yaml"):
        for line in path.read_text().splitlines():
            if line.strip().startswith("policy:"):
                used.add(line.split(":", 1)[1].strip())
    assert used
    assert used <= set(catalogue.policies)


def test_immediate_suspension_policies_start_at_suspend() -> None:
    catalogue = load_catalogue()
    for pid in ("phishing", "compromised-account", "artificially-inflated-traffic"):
        assert catalogue.get(pid).ladder[0].action == "suspend"


def test_ladder_climbs_with_strikes_and_strikes_expire() -> None:
    policy = load_catalogue().get("email-complaint-rate")
    assert [s.action for s in policy.ladder] == ["warn", "pause", "suspend", "terminate"]
    assert propose(policy, [], T0).step.action == "warn"
    one = propose(policy, [T0 - timedelta(days=1)], T0)
    assert (one.step.action, one.step.duration, one.strikes) == ("pause", timedelta(hours=72), 1)
    many = [T0 - timedelta(days=d) for d in (1, 2, 3, 4, 5)]
    assert propose(policy, many, T0).step.action == "terminate"
    # 90-day strikes: one from 100 days ago no longer counts.
    assert propose(policy, [T0 - timedelta(days=100)], T0).step.action == "warn"


def test_unknown_policy_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no policy 'nope'"):
        load_catalogue().get("nope")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("policies: 3", "policies"),
        ("policies:\n  - id: x\n", "severity"),
        (
            (
                "policies:\n  - {id: x, title: t, forbids: f, explanation: e, remediation: [r],"
                " appeal_evidence: [a], severity: high, ladder: [explode]}\n"
            ),
            "explode",
        ),
        (
            (
                "policies:\n  - {id: x, title: t, forbids: f, explanation: e, remediation: [r],"
                " appeal_evidence: [a], severity: high, ladder: [throttle]}\n"
            ),
            "rate_per_min",
        ),
    ],
)
def test_bad_catalogue_names_what_is_wrong(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(body)
    with pytest.raises(FormatError, match=message):
        load_catalogue(path)
