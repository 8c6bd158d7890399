"""Measure, from a generated events file alone, the signals DOMAIN.md defines, per account.

This is deliberately independent of the simulator's own tables: countries and time zones come
from `phonenumbers` (as an enricher would derive them), rates are computed from the events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import phonenumbers
from phonenumbers import timezone as pn_timezone

from abusedesk.events.adapters.arf import ArfAdapter
from abusedesk.events.adapters.base import Limits, Record
from abusedesk.pipeline.linking import clean_message_id, local_part
from abusedesk.sim.fbl import COMPLAINTS_FILE

INVALID_NUMBER = ("30005", "30006", "21614")


@lru_cache(maxsize=65536)
def region_of_prefix(prefix: str) -> str:
    num = phonenumbers.parse(prefix + "0000")
    return phonenumbers.region_code_for_number(num) or "ZZ"


@lru_cache(maxsize=65536)
def tz_of_prefix(prefix: str) -> str:
    zones = pn_timezone.time_zones_for_number(phonenumbers.parse(prefix + "0000"))
    return zones[0] if zones and zones[0] != "Etc/Unknown" else "UTC"


@lru_cache(maxsize=4096)
def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def local_hour(number: str, ts: datetime) -> float:
    local = ts.astimezone(ZoneInfo(tz_of_prefix(number[:-4])))
    return local.hour + local.minute / 60


@dataclass
class Stats:
    label: str = ""
    kind: str = ""
    events: int = 0
    types: Counter[str] = field(default_factory=Counter)
    sms_out: int = 0
    sms_status: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    opt_outs: int = 0
    sends_after_opt_out: int = 0
    delivered_after_opt_out: int = 0
    quiet_hour_sends: int = 0
    local_hours: list[float] = field(default_factory=list)
    starts_by_country: Counter[str] = field(default_factory=Counter)
    checks_ok_by_country: Counter[str] = field(default_factory=Counter)
    starts_by_prefix_hour: Counter[tuple[str, str]] = field(default_factory=Counter)
    email_out: int = 0
    email_delivered: int = 0
    hard_bounces: int = 0
    fbl_complaints: int = 0
    carrier_complaints: int = 0
    with_unsubscribe: int = 0
    auth_fail: int = 0
    calls: int = 0
    attestation: Counter[str] = field(default_factory=Counter)
    short_calls: int = 0
    devices: set[str] = field(default_factory=set)
    payments: set[str] = field(default_factory=set)
    signup_ips: set[str] = field(default_factory=set)
    signup_at: datetime | None = None
    country: str = ""
    login_countries: Counter[str] = field(default_factory=Counter)
    api_keys_created: list[datetime] = field(default_factory=list)
    message_api_keys: Counter[str] = field(default_factory=Counter)
    key_first_seen: dict[str, datetime] = field(default_factory=dict)
    sends_by_hour: Counter[str] = field(default_factory=Counter)  # "2026-03-02T13"
    campaigns: dict[str, list[datetime]] = field(default_factory=dict)  # id -> [first, last]
    campaign_sends: Counter[str] = field(default_factory=Counter)
    senders: set[str] = field(default_factory=set)  # numbers / addresses it sent from or bought
    destinations: Counter[str] = field(default_factory=Counter)  # SMS/call destination country
    bodies: list[str] = field(default_factory=list)  # the first 200 outbound bodies
    call_durations: list[float] = field(default_factory=list)
    first_event: datetime | None = None

    # rates ------------------------------------------------------------------------------
    @property
    def sms_delivered(self) -> int:
        return self.sms_status["delivered"]

    def error_share(self, *codes: str) -> float:
        return sum(self.errors[c] for c in codes) / max(self.sms_out, 1)

    @property
    def error_rate(self) -> float:
        failed = self.sms_status["failed"] + self.sms_status["undelivered"]
        return failed / max(self.sms_out, 1)

    @property
    def opt_out_rate(self) -> float:
        return self.opt_outs / max(self.sms_delivered, 1)

    @property
    def hard_bounce_rate(self) -> float:
        return self.hard_bounces / max(self.email_out, 1)

    @property
    def complaint_rate(self) -> float:
        return self.fbl_complaints / max(self.email_delivered, 1)

    def conversion(self, countries: set[str] | None = None) -> float:
        keys = countries if countries is not None else set(self.starts_by_country)
        starts = sum(self.starts_by_country[c] for c in keys)
        return sum(self.checks_ok_by_country[c] for c in keys) / max(starts, 1)


@dataclass
class Measured:
    labels: dict[str, str]
    truth: dict[str, dict[str, Any]]
    accounts: dict[str, Stats]
    reports: list[dict[str, Any]]
    event_times: dict[str, list[datetime]]  # per account: ts of every event (abuse_start check)

    def by_label(self, label: str) -> list[Stats]:
        return [s for s in self.accounts.values() if s.label == label]

    def by_kind(self, kind: str) -> list[Stats]:
        return [s for s in self.accounts.values() if s.kind == kind]


def early_complaint_ids(out_dir: Path) -> Counter[str]:
    """message_id -> complaints about it in complaints.mbox, read by the ARF adapter."""
    out: Counter[str] = Counter()
    path = out_dir / COMPLAINTS_FILE
    if not path.exists():
        return out
    with path.open("rb") as fh:
        for item in ArfAdapter().parse(fh, str(path), Limits()):
            assert isinstance(item, Record), item
            assert "account_id" not in item.raw  # no account header
            out[local_part(clean_message_id(item.raw["message_id"]))] += 1
    return out


def measure(out_dir: Path, *, local_hours_for: frozenset[str] = frozenset()) -> Measured:
    """One streaming pass over events.jsonl. `local_hours_for`: kinds whose outbound SMS get
    their recipient-local hour recorded (costly, so only where a test needs it)."""
    labels: dict[str, str] = orjson.loads((out_dir / "labels.json").read_bytes())
    truth: dict[str, dict[str, Any]] = orjson.loads((out_dir / "truth.json").read_bytes())
    stats: dict[str, Stats] = defaultdict(Stats)
    for acc, label in labels.items():
        stats[acc].label = label
        stats[acc].kind = truth[acc]["kind"]
    msg_owner: dict[str, tuple[str, str]] = {}  # message_id -> (channel, to)
    # FBL complaints sent ahead of the message log (complaints.mbox): counted on the account
    # of the message they name, as late linking does.
    early = early_complaint_ids(out_dir)
    vstart: dict[str, str] = {}  # verification_id -> country
    stopped: dict[str, dict[str, datetime]] = defaultdict(dict)
    reports: list[dict[str, Any]] = []
    times: dict[str, list[datetime]] = defaultdict(list)
    with (out_dir / "events.jsonl").open("rb") as fh:
        for line in fh:
            e = orjson.loads(line)
            etype = e["type"]
            if etype == "report":
                reports.append(e)
                continue
            acc = e["account_id"]
            s = stats[acc]
            ts = _parse_ts(e["ts"])
            s.events += 1
            s.types[etype] += 1
            if s.label != "legit":
                times[acc].append(ts)
            if s.first_event is None:
                s.first_event = ts
            if etype == "message":
                _message(s, e, ts, msg_owner, stopped[acc], local_hours_for)
                if early and e["message_id"] in early:
                    s.fbl_complaints += early.pop(e["message_id"])
            elif etype == "delivery":
                _delivery(s, e, msg_owner)
            elif etype == "verification":
                prefix = e["to"][:-4]
                if e["stage"] == "start":
                    country = region_of_prefix(prefix)
                    vstart[e["verification_id"]] = country
                    s.starts_by_country[country] += 1
                    s.starts_by_prefix_hour[(prefix, e["ts"][:13])] += 1
                elif e.get("success"):
                    s.checks_ok_by_country[vstart[e["verification_id"]]] += 1
            elif etype == "complaint":
                if e["source"] == "fbl":
                    s.fbl_complaints += 1
                elif e["source"] == "carrier":
                    s.carrier_complaints += 1
            elif etype == "opt_out":
                s.opt_outs += 1 if e.get("channel") == "sms" else 0
                stopped[acc].setdefault(e["recipient"], ts)
            elif etype == "call":
                s.calls += 1
                s.attestation[e.get("attestation", "?")] += 1
                s.destinations[region_of_prefix(e["to"][:-4])] += 1
                s.senders.add(e["from"])
                if e.get("status") == "completed":
                    s.call_durations.append(e.get("duration_s", 0.0))
                if e.get("status") == "completed" and e.get("duration_s", 0) < 20:
                    s.short_calls += 1
            elif etype == "account":
                _account(s, e, ts)
    return Measured(labels, truth, dict(stats), reports, dict(times))


def _message(
    s: Stats,
    e: dict[str, Any],
    ts: datetime,
    owner: dict[str, tuple[str, str]],
    stopped: dict[str, datetime],
    local_hours_for: frozenset[str],
) -> None:
    if e.get("direction", "outbound") == "inbound":
        return
    channel, to = e["channel"], e["to"]
    owner[e["message_id"]] = (channel, to)
    key = e.get("api_key_id")
    if key:
        s.message_api_keys[key] += 1
        s.key_first_seen.setdefault(key, ts)
    s.sends_by_hour[e["ts"][:13]] += 1
    campaign = e.get("campaign_id")
    if campaign:
        s.campaign_sends[campaign] += 1
        s.campaigns.setdefault(campaign, [ts, ts])[1] = ts
    s.senders.add(e["from"])
    if len(s.bodies) < 200 and e.get("body"):
        s.bodies.append(e["body"])
    if channel == "email":
        s.email_out += 1
        headers = e.get("headers") or {}
        if "List-Unsubscribe" in headers:
            s.with_unsubscribe += 1
        auth = headers.get("Authentication-Results", "")
        if "spf=pass" not in auth or "dkim=pass" not in auth:
            s.auth_fail += 1
        return
    s.sms_out += 1
    s.destinations[region_of_prefix(to[:-4])] += 1
    stop = stopped.get(to)
    if stop is not None and ts > stop:
        s.sends_after_opt_out += 1
    if s.kind in local_hours_for:
        hour = local_hour(to, ts)
        s.local_hours.append(hour)
        if hour < 8 or hour >= 21:
            s.quiet_hour_sends += 1


def _delivery(s: Stats, e: dict[str, Any], owner: dict[str, tuple[str, str]]) -> None:
    channel, _to = owner.get(e["message_id"], ("?", ""))
    status = e["status"]
    if channel == "email":
        if status == "delivered":
            s.email_delivered += 1
        elif e.get("bounce_type") == "permanent":
            s.hard_bounces += 1
        return
    s.sms_status[status] += 1
    if e.get("error_code"):
        s.errors[e["error_code"]] += 1


def _account(s: Stats, e: dict[str, Any], ts: datetime) -> None:
    action = e["action"]
    if e.get("device_id"):
        s.devices.add(e["device_id"])
    if e.get("payment_fingerprint"):
        s.payments.add(e["payment_fingerprint"])
    if action == "signup":
        s.signup_at = ts
        s.country = e.get("country", "")
        s.signup_ips.add(e.get("ip", ""))
    elif action == "login":
        s.login_countries[e.get("country", "")] += 1
    elif action == "api_key_created":
        s.api_keys_created.append(ts)
    elif action == "number_purchased" and e.get("phone_number"):
        s.senders.add(e["phone_number"])
