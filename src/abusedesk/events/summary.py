"""What an ingest run reports: counters, a sample of what was quarantined, and (for API
requests) one result per line or item."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from abusedesk.events.adapters.base import Location

Status = Literal["accepted", "duplicate", "rejected"]
SAMPLE_SIZE: Final = 20


@dataclass(slots=True)
class ItemResult:
    where: Location
    status: Status
    id: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.where.line is not None:
            out["line"] = self.where.line
        if self.where.item is not None:
            out["item"] = self.where.item
        if self.id is not None:
            out["id"] = self.id
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(slots=True)
class QuarantinedItem:
    where: Location
    reason: str
    excerpt: str


@dataclass
class IngestSummary:
    run_id: int
    files: int = 0
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    # Events whose enrichment failed while the run's consumers (detection) evaluated them;
    # they were detected on with hour_utc as their only enrichment (see enrich.Enricher).
    enrich_failures: int = 0
    # Runs found dead at this run's start (marked "interrupted"), and the events of their
    # committed batches this run sent through detection (pipeline/recovery.py), and the
    # lake's events replayed first to rebuild the dead process's detection state.
    interrupted_runs: list[int] = field(default_factory=list)
    recovered_events: int = 0
    rebuilt_events: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    quarantine_sample: list[QuarantinedItem] = field(default_factory=list)
    results: list[ItemResult] | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        recovery: dict[str, Any] = {}
        if self.interrupted_runs or self.recovered_events:
            recovery = {
                "interrupted_runs": self.interrupted_runs,
                "recovered_events": self.recovered_events,
                "rebuilt_events": self.rebuilt_events,
            }
        return {
            **recovery,
            "run_id": self.run_id,
            "files": self.files,
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "enrich_failures": self.enrich_failures,
            "by_type": dict(sorted(self.by_type.items())),
            "elapsed_s": round(self.elapsed_s, 3),
        }
