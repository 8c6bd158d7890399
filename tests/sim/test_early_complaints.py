"""A share of the FBL complaints reaches the desk before the message log, as ARF reports without
account headers (complaints.mbox); the rest of the traffic does not change with the share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from abusedesk.events.adapters.arf import ArfAdapter
from abusedesk.events.adapters.base import Limits, Record
from abusedesk.pipeline.linking import clean_message_id, local_part
from abusedesk.sim.fbl import COMPLAINTS_FILE, EARLY_COMPLAINTS
from abusedesk.sim.generator import generate


def events(folder: Path) -> list[dict[str, Any]]:
    with (folder / "events.jsonl").open("rb") as fh:
        return [orjson.loads(line) for line in fh]


def reports(folder: Path) -> list[Record]:
    if not (folder / COMPLAINTS_FILE).stat().st_size:
        return []  # written, empty: no complaint went early
    with (folder / COMPLAINTS_FILE).open("rb") as fh:
        items = list(ArfAdapter().parse(fh, "complaints.mbox", Limits()))
    assert all(isinstance(item, Record) for item in items), items
    return [item for item in items if isinstance(item, Record)]


def test_early_complaints_are_arf_reports_about_messages_of_the_run(tmp_path: Path) -> None:
    summary = generate(tmp_path / "all", days=2, seed=3, scale=0.3, early_complaints=1.0)
    found = reports(tmp_path / "all")
    assert len(found) == summary.early_complaints > 0
    sent = {e["message_id"]: e for e in events(tmp_path / "all") if e["type"] == "message"}
    in_log = [e for e in events(tmp_path / "all") if e["type"] == "complaint"]
    assert all(e["source"] != "fbl" for e in in_log)  # every FBL complaint went early
    for record in found:
        raw = record.raw
        assert "account_id" not in raw  # no account header: the desk must link it
        assert record.fallback is not None
        assert record.fallback["type"] == "report"
        message = sent[local_part(clean_message_id(raw["message_id"]))]
        assert raw["original_mail_from"] == message["from"]
        assert raw["source_ip"] == message["sender_ip"]
        assert raw["ts"] > message["ts"]  # made after the mail was sent
        assert raw["source"] == "fbl"
        assert raw["feedback_type"] == "abuse"


@pytest.mark.parametrize("share", [0.0, EARLY_COMPLAINTS])
def test_the_share_moves_complaints_and_changes_nothing_else(tmp_path: Path, share: float) -> None:
    generate(tmp_path / "none", days=1, seed=5, scale=0.2, early_complaints=0.0)
    summary = generate(tmp_path / "some", days=1, seed=5, scale=0.2, early_complaints=share)
    assert (summary.early_complaints > 0) is (share > 0)

    def without_fbl(folder: Path) -> list[tuple[Any, ...]]:
        return [
            (e["type"], e["ts"], e.get("account_id"), e.get("message_id"))
            for e in events(folder)
            if not (e["type"] == "complaint" and e["source"] == "fbl")
        ]

    def fbl(folder: Path) -> set[str]:
        return {
            e["message_id"]
            for e in events(folder)
            if e["type"] == "complaint" and e["source"] == "fbl"
        }

    assert without_fbl(tmp_path / "some") == without_fbl(tmp_path / "none")
    early = {local_part(clean_message_id(r.raw["message_id"])) for r in reports(tmp_path / "some")}
    assert early | fbl(tmp_path / "some") == fbl(tmp_path / "none")
    assert not early & fbl(tmp_path / "some")
