"""The namespace a rule sees: every name an expression may use, with its kind and origin.

A row (detection.spec) holds the envelope, the event's fields, the enrichment fields, the pack's
features, the model scores and a few names the detection engine adds from its own state. Kinds are those of events.schema plus `timestamp` for `ts`;
features and model scores are computed numbers. Event fields of kind `obj` (message headers)
cannot be read by rules: enrichment exposes what rules need from them (spf, dkim, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast

from abusedesk.detection.spec import FeatureSpec
from abusedesk.enrich.fields import ENRICHED_FIELDS
from abusedesk.events.schema import FIELD_KINDS, FIELDS

Kind = Literal["str", "int", "num", "bool", "strlist", "timestamp"]
Origin = Literal["envelope", "field", "enrichment", "feature", "model", "engine"]
KINDS: Final[tuple[Kind, ...]] = ("str", "int", "num", "bool", "strlist", "timestamp")
# What an expression can produce: a kind, or the bare NULL literal (which fits any kind).
ExprKind = Literal["str", "int", "num", "bool", "strlist", "timestamp", "null"]

# Model scores a classifier may add to the row. Each is a number from 0 to 1, NULL when no model
# is loaded, so rules written against a score stay valid (and quiet) without the model.
# Classifiers add their names here, next to the model that produces them.
MODEL_SCORES: Final[dict[str, str]] = {
    "spam_score": "probability (0..1) that the message is spam, from the content model of its "
    "channel (content.scorer); NULL for other events, messages without text and messages no "
    "rule reading it could match (detection.model_gate)",
}

# Names the detection engine adds to the row from its own state (detection.engine.row).
ENGINE_NAMES: Final[dict[str, tuple[Kind, str]]] = {
    "linked_flagged_accounts": (
        "int",
        "how many other flagged accounts share a device or card with this account",
    ),
    "campaign_accounts": (
        "int",
        (
            "how many accounts have sent this message's campaign so far, this one included "
            "(near-duplicate text, shared link domain or sender; content.campaigns), among the "
            "messages a rule reading it could match (detection.model_gate); NULL for inbound "
            "messages, the other messages and other events"
        ),
    ),
    "campaign_enforced_accounts": (
        "int",
        (
            "how many other accounts of this message's campaign detection has already flagged "
            "(a live high or critical match of a rule that reads no engine state; "
            "detection.campaign_flags); NULL for inbound messages and other events"
        ),
    ),
}

ENVELOPE_KINDS: Final[dict[str, tuple[Kind, str]]] = {
    "id": ("str", "the event's id"),
    "type": ("str", "the event's type: " + ", ".join(FIELDS)),
    "ts": ("timestamp", "when the event happened (UTC)"),
    "account_id": ("str", "the account the event belongs to"),
}

FEATURE_KINDS: Final[dict[str, Kind]] = {
    "count": "int",
    "distinct": "int",
    "sum": "num",
    "ratio": "num",
    "age": "num",
}

# Words a misspelt name may have meant; offered by did-you-mean next to the names.
KEYWORDS: Final[tuple[str, ...]] = (
    "AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "LIKE", "ILIKE", "BETWEEN",
    "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "DISTINCT",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    kind: Kind
    origin: Origin
    description: str


def _field_types() -> dict[str, tuple[str, ...]]:
    types: dict[str, list[str]] = {}
    for etype, fields in FIELDS.items():
        for field in fields:
            types.setdefault(field.name, []).append(etype)
    return {name: tuple(found) for name, found in types.items()}


# Which event types carry each field: lint warns when a feature reads a field its types lack.
FIELD_TYPES: Final[dict[str, tuple[str, ...]]] = _field_types()

# Fields that exist but that an expression cannot read (objects); the message says why.
UNREADABLE: Final[frozenset[str]] = frozenset(
    name for name, kind in FIELD_KINDS.items() if kind == "obj"
)


class Namespace(Mapping[str, Name]):
    """Read-only name -> Name; built once per pack."""

    __slots__ = ("_names",)

    def __init__(self, names: Iterable[Name]) -> None:
        self._names: dict[str, Name] = {}
        for item in names:
            self._names.setdefault(item.name, item)

    def __getitem__(self, key: str) -> Name:
        return self._names[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def with_features(self, features: Iterable[FeatureSpec]) -> Namespace:
        return Namespace([*self._names.values(), *(feature_name(spec) for spec in features)])

    def candidates(self) -> list[str]:
        """Everything did-you-mean may offer for a misspelt name."""
        return [*self._names, *KEYWORDS]


def feature_name(spec: FeatureSpec) -> Name:
    return Name(spec.name, FEATURE_KINDS[spec.kind], "feature", f"{spec.kind} feature")


def base_names(models: Mapping[str, str] = MODEL_SCORES) -> list[Name]:
    """Envelope, event fields, enrichment, model scores and engine names (no features)."""
    names = [Name(n, kind, "envelope", desc) for n, (kind, desc) in ENVELOPE_KINDS.items()]
    types = FIELD_TYPES
    for field_name, field_kind in FIELD_KINDS.items():
        if field_kind == "obj":
            continue
        desc = "event field of " + ", ".join(types[field_name])
        names.append(Name(field_name, cast(Kind, field_kind), "field", desc))
    names.extend(
        Name(n, cast(Kind, kind), "enrichment", desc)
        for n, (kind, desc) in ENRICHED_FIELDS.items()
        if kind != "obj"
    )
    names.extend(Name(n, "num", "model", desc) for n, desc in models.items())
    names.extend(Name(n, kind, "engine", desc) for n, (kind, desc) in ENGINE_NAMES.items())
    return names


def base_namespace(models: Mapping[str, str] = MODEL_SCORES) -> Namespace:
    return Namespace(base_names(models))


def pack_namespace(
    features: Iterable[FeatureSpec], models: Mapping[str, str] = MODEL_SCORES
) -> Namespace:
    return Namespace([*base_names(models), *(feature_name(spec) for spec in features)])


def kinds_namespace(kinds: Mapping[str, Kind]) -> Namespace:
    """A namespace from plain name -> kind (tests, ad-hoc queries)."""
    return Namespace(Name(n, kind, "field", "") for n, kind in kinds.items())
