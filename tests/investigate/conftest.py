"""A small, hand-made world to investigate: five accounts, their links and their traffic.

    A  sender +15550000001, device dev-1, payment pay-A, IP 203.0.113.9 (shared by A, E, F)
    B  device dev-1 (hop 1 from A), payment pay-2
    C  payment pay-2 (hop 2 from A, through B)
    E, F  only the common IP 203.0.113.9
A sends 6 messages on 2026-03-02 (4 delivered, 1 undelivered with error 30007, 1 bounced) and
4 on 2026-03-03 (all delivered), to +44 and +33 numbers; one complaint and one opt-out on the
3rd; a carrier reports A's number.
"""

from __future__ import annotations

from typing import Any

import pytest

from abusedesk.lake.compaction import compact
from abusedesk.settings import Settings
from abusedesk.workspace import Workspace

A, B, C, E, F = ("ACa", "ACb", "ACc", "ACe", "ACf")
SENDER = "+15550000001"
BODY = "Your parcel is held, pay at http://parcel-fee.example/p/1"


def _signup(i: int, account: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"s{i}",
        "type": "account",
        "ts": "2026-03-01T08:00:00Z",
        "account_id": account,
        "action": "signup",
        **data,
    }


def events() -> list[dict[str, Any]]:
    out = [
        _signup(1, A, device_id="dev-1", payment_fingerprint="pay-A", ip="203.0.113.9",
                email="ops@a.example", company="A Ltd", country="GB", declared_use_case="otp"),
        _signup(2, B, device_id="dev-1", payment_fingerprint="pay-2", ip="198.51.100.2"),
        _signup(3, C, payment_fingerprint="pay-2", ip="198.51.100.3"),
        _signup(4, E, ip="203.0.113.9"),
        _signup(5, F, ip="203.0.113.9"),
    ]  # fmt: skip
    statuses = ["delivered"] * 4 + ["undelivered", "bounced"] + ["delivered"] * 4
    for i, status in enumerate(statuses):
        day = "02" if i < 6 else "03"
        to = f"+4474001234{i:02d}" if i % 2 == 0 else f"+3361234567{i}"
        out.append(
            {"id": f"m{i}", "type": "message", "ts": f"2026-03-{day}T10:{i:02d}:00Z",
             "account_id": A, "message_id": f"SM{i}", "channel": "sms", "from": SENDER,
             "to": to, "body": BODY}
        )  # fmt: skip
        receipt: dict[str, Any] = {
            "id": f"d{i}", "type": "delivery", "ts": f"2026-03-{day}T10:{i:02d}:30Z",
            "account_id": A, "message_id": f"SM{i}", "status": status, "recipient": to,
        }  # fmt: skip
        if status == "undelivered":
            receipt["error_code"] = "30007"
        out.append(receipt)
    out += [
        {"id": "c1", "type": "complaint", "ts": "2026-03-03T11:00:00Z", "account_id": A,
         "message_id": "SM7", "source": "carrier", "recipient": "+33612345677"},
        {"id": "o1", "type": "opt_out", "ts": "2026-03-03T11:05:00Z", "account_id": A,
         "recipient": "+447400123408", "sender": SENDER, "keyword": "STOP"},
        {"id": "r1", "type": "report", "ts": "2026-03-03T12:00:00Z", "report_id": "rep-1",
         "reporter": "carrier", "category": "phishing", "target": SENDER,
         "description": "parcel fee lure"},
    ]  # fmt: skip
    return out


@pytest.fixture
def settings(db_url: str, tmp_path: Any) -> Settings:
    # Two accounts may share an entity before it counts as too common to link anyone.
    return Settings(home=tmp_path / "home", database_url=db_url, investigate_common_entity=2)


@pytest.fixture
def world(workspace: Workspace) -> Workspace:
    summary = workspace.ingestor().ingest_objects(events(), source="test")
    assert summary.quarantined == 0, summary
    # The layout account reads rely on: partitions sorted by account in small row groups.
    compact(workspace.lake_dir, min_files=1)
    return workspace
