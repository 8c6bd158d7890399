"""What a notice may say about the evidence, made safe to tell the customer.

Metrics come from the numeric features stored with the case's signals (value, window, sample
size);
example messages come from the caller with their recipients masked here. Nothing that names a
complainant, a reporter or a spam trap is ever passed on: such keys are dropped, and addresses
and numbers inside example texts are masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Keys that would disclose who complained or reported, or a spam-trap address (DOMAIN.md §4.3).
_SECRET_KEY = re.compile(r"reporter|complainant|trap|feedback_source|source_ip|reported_by", re.I)
_WINDOW = re.compile(r"_(\d+[mhd])$")
_SAMPLE_PREFIXES = ("delivered_", "sent_", "messages_", "attempts_")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


@dataclass(frozen=True)
class Metric:
    metric: str
    value: Any
    window: str | None
    sample: Any | None

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def mask_recipient(value: str) -> str:
    """'+2348031234567' -> '+234•••••••67'; 'jane@example.com' -> 'j•••@example.com'."""
    value = value.strip()
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    digits = value.lstrip("+")
    keep = 3 if value.startswith("+") else 2
    return (
        ("+" if value.startswith("+") else "")
        + digits[:keep]
        + "•" * max(0, len(digits) - keep - 2)
        + digits[-2:]
    )


def mask_text(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}•••@{m.group(2)}", text)
    return _PHONE.sub(lambda m: mask_recipient(re.sub(r"[\s().-]", "", m.group(0))), text)


def metrics_from_features(features: Iterable[Mapping[str, Any]]) -> list[Metric]:
    """Each feature a signal stored, with its window and the sample counted over that window."""
    found: dict[str, Metric] = {}
    for feats in features:
        safe = {k: v for k, v in feats.items() if not _SECRET_KEY.search(k)}
        for name, value in safe.items():
            if name.startswith(_SAMPLE_PREFIXES) or name in found:
                continue
            # Measurements only: flags and labels (type, category, has_*) say nothing a
            # customer can check against a threshold.
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            match = _WINDOW.search(name)
            window = match.group(1) if match else None
            sample = None
            if window is not None:
                sample = next(
                    (
                        v
                        for k, v in safe.items()
                        if k.startswith(_SAMPLE_PREFIXES) and k.endswith(f"_{window}")
                    ),
                    None,
                )
            found[name] = Metric(name, value, window, sample)
    return list(found.values())


def safe_examples(examples: Iterable[Mapping[str, Any]], limit: int = 3) -> list[dict[str, str]]:
    """A few example messages: recipient masked, addresses and numbers in the text masked."""
    out: list[dict[str, str]] = []
    for example in examples:
        if len(out) >= limit:
            break
        out.append(
            {
                "to": mask_recipient(str(example.get("to") or "")),
                "sent_at": str(example.get("ts") or ""),
                "text": mask_text(str(example.get("body") or example.get("subject") or ""))[:300],
            }
        )
    return out
