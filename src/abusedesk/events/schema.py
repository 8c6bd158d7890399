"""The canonical event format of docs/events.md (a contract other tools rely on).

Validation is table-driven and written by hand rather than with pydantic models: ingest has to
take 100,000 events a second on one core, and a per-event model costs several times the budget.
`FIELDS` is the single description of every type and field; the validator, the lake's Parquet
schema, the SQL views and docs/events.md's field tables are all read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

Kind = Literal["str", "int", "num", "bool", "obj", "strlist"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    choices: frozenset[str] | None = None
    default: Any = None
    # Longest value, in characters, for fields the relational store keeps in a bounded column
    # (storage/models.py): checked here, so SQLite and PostgreSQL take and refuse the same events.
    max_len: int | None = None


def _f(
    name: str,
    kind: Kind = "str",
    *,
    required: bool = False,
    choices: tuple[str, ...] | None = None,
    default: Any = None,
    max_len: int | None = None,
) -> Field:
    return Field(name, kind, required, frozenset(choices) if choices else None, default, max_len)


CHANNELS = ("sms", "mms", "whatsapp", "email", "rcs", "voice")
DELIVERY_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed", "bounced", "deferred")

# The account of a provider event that neither its payload, the workspace's account map nor its
# message could tie to a customer (docs/formats.md, "How an account is found"). Such events are
# kept, counted and searchable, but no detection runs on them.
UNATTRIBUTED: Final = "unattributed"

FIELDS: Final[dict[str, tuple[Field, ...]]] = {
    "message": (
        _f("message_id", required=True),
        _f("channel", required=True, choices=CHANNELS),
        _f("direction", choices=("outbound", "inbound"), default="outbound"),
        _f("from", required=True),
        _f("to", required=True),
        _f("body"),
        _f("subject"),
        _f("headers", "obj"),
        _f("sender_ip"),
        _f("api_key_id"),
        _f("campaign_id"),
        _f("segments", "int"),
        _f("price", "num"),
    ),
    "delivery": (
        _f("message_id", required=True),
        _f("status", required=True, choices=DELIVERY_STATUSES),
        _f("error_code"),
        _f("bounce_type", choices=("permanent", "transient", "undetermined")),
        _f("recipient"),
    ),
    "complaint": (
        _f("message_id"),
        _f("recipient"),
        _f("source", required=True, choices=("fbl", "carrier", "recipient", "third_party")),
        _f(
            "feedback_type",
            choices=(
                "abuse",
                "fraud",
                "virus",
                "other",
                "not-spam",
                "auth-failure",
                "opt-out",
                "opt-out-list",
            ),
        ),
    ),
    "opt_out": (
        _f("recipient", required=True),
        _f("sender"),
        _f("keyword"),
        _f("channel"),
    ),
    "verification": (
        _f("verification_id", required=True),
        _f("stage", required=True, choices=("start", "check")),
        _f("to", required=True),
        _f("success", "bool"),
        _f("channel"),
    ),
    "call": (
        _f("call_id", required=True),
        _f("from", required=True),
        _f("to", required=True),
        _f("duration_s", "num"),
        _f("status", choices=("completed", "busy", "no-answer", "failed", "canceled")),
        _f("attestation", choices=("A", "B", "C")),
    ),
    "account": (
        _f(
            "action",
            required=True,
            choices=(
                "signup",
                "login",
                "api_key_created",
                "payment_method_added",
                "number_purchased",
                "domain_verified",
                "profile_updated",
            ),
        ),
        _f("ip"),
        _f("email", max_len=320),
        _f("country", max_len=2),
        _f("device_id"),
        _f("payment_fingerprint"),
        _f("company", max_len=256),
        _f("website"),
        _f("declared_use_case", max_len=64),
    ),
    "report": (
        # Required by the field table, yet the contract's own example omits it: the event id
        # stands in, so every example on the contract page is accepted.
        _f("report_id", max_len=256),
        _f(
            "reporter",
            required=True,
            choices=("user", "host", "carrier", "third_party", "anti_spam_org", "internal"),
        ),
        _f(
            "category",
            required=True,
            choices=("spam", "phishing", "fraud", "harassment", "illegal_content", "other"),
        ),
        _f("target", max_len=512),
        _f("description"),
        _f("evidence", "strlist"),
    ),
}

EVENT_TYPES: Final[tuple[str, ...]] = tuple(FIELDS)
# Integer fields are 64-bit signed in the lake (and in every SQL engine that reads it).
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1
ENVELOPE: Final[frozenset[str]] = frozenset({"id", "type", "ts", "account_id"})
# Envelope limits, the widths of event_ids.event_id and accounts.account_id.
ID_MAX_LEN: Final = 256
ACCOUNT_ID_MAX_LEN: Final = 128
# Deepest nesting of arrays and objects in an object field or an unknown field: the lake keeps
# them as JSON text, and the JSON encoder stops at 255 levels.
MAX_DEPTH: Final = 64
# Types whose events need no account: the reporter may not know whose traffic it was.
ACCOUNT_OPTIONAL: Final[frozenset[str]] = frozenset({"report"})

# One kind per field name across all types, so the lake's `events` view can union the types.
FIELD_KINDS: Final[dict[str, Kind]] = {}
for _fields in FIELDS.values():
    for _field in _fields:
        previous = FIELD_KINDS.setdefault(_field.name, _field.kind)
        if previous != _field.kind:  # pragma: no cover - guards edits of the table above
            raise AssertionError(f"field {_field.name} has two kinds")


@dataclass(slots=True)
class Event:
    """One validated event. `data` holds the type's fields, `attrs` every unknown field kept."""

    id: str
    type: str
    ts: datetime
    account_id: str | None
    data: dict[str, Any]
    attrs: dict[str, Any] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def to_json_dict(self) -> dict[str, Any]:
        """Back to the canonical JSON shape (the inverse of `validate_event`)."""
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
        }
        if self.account_id is not None:
            out["account_id"] = self.account_id
        out.update(self.data)
        if self.attrs:
            for key, value in self.attrs.items():
                out.setdefault(key, value)
        return out


class EventInvalid(ValueError):  # noqa: N818 - reads as a verdict on the input: "event invalid"
    """The reason one event was rejected; the caller adds where it came from."""


def parse_ts(value: object) -> datetime:
    """RFC 3339 with an offset, to aware UTC. Naive timestamps are refused, not guessed."""
    if not isinstance(value, str):
        raise EventInvalid(f"field 'ts' must be an RFC 3339 string, got {_typename(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventInvalid(f"field 'ts' is not an RFC 3339 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise EventInvalid(f"field 'ts' has no UTC offset: {value[:40]!r}")
    if len(value) < 20 or value[10] not in "Tt ":
        raise EventInvalid(f"field 'ts' is not a full RFC 3339 date-time: {value[:40]!r}")
    if parsed.tzinfo is UTC:
        return parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise EventInvalid(f"field 'ts' is out of range in UTC: {value[:40]!r}") from None


def _typename(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _check(field: Field, value: Any) -> Any:
    kind = field.kind
    if kind == "str":
        if type(value) is not str:
            raise EventInvalid(f"field '{field.name}' must be a string, got {_typename(value)}")
        if field.choices is not None and value not in field.choices:
            choices = ", ".join(sorted(field.choices))
            raise EventInvalid(f"field '{field.name}' is {value[:40]!r}; expected one of {choices}")
        return value
    if kind == "int":
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is int:
            if INT_MIN <= value <= INT_MAX:
                return value
            raise EventInvalid(f"field '{field.name}' is out of range (a 64-bit signed integer)")
        raise EventInvalid(f"field '{field.name}' must be an integer, got {_typename(value)}")
    if kind == "num":
        if type(value) is int or type(value) is float:
            return float(value)
        raise EventInvalid(f"field '{field.name}' must be a number, got {_typename(value)}")
    if kind == "bool":
        if type(value) is not bool:
            raise EventInvalid(
                f"field '{field.name}' must be true or false, got {_typename(value)}"
            )
        return value
    if kind == "obj":
        if type(value) is not dict:
            raise EventInvalid(f"field '{field.name}' must be an object, got {_typename(value)}")
        _check_nested(field.name, value)
        return value
    if type(value) is not list or not all(type(item) is str for item in value):
        raise EventInvalid(f"field '{field.name}' must be a list of strings")
    return value


def _check_nested(name: str, value: Any) -> None:
    """Refuse what the lake could not store as JSON text: nesting deeper than MAX_DEPTH, or a
    value JSON has no form for. Integers of any size are kept (events/jsontext.py writes them)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                raise EventInvalid(f"field '{name}' is nested deeper than {MAX_DEPTH} levels")
            values = item.values() if kind is dict else item
            stack.extend((v, depth + 1) for v in values if type(v) in _CONTAINERS)
        elif not (kind is str or kind is int or kind is float or kind is bool or item is None):
            raise EventInvalid(f"field '{name}' holds a {_typename(item)}, not a JSON value")


_CONTAINERS: Final = frozenset({dict, list})


def validate_event(obj: object) -> Event:
    """Check one decoded JSON value against the contract; raise EventInvalid with the reason."""
    if type(obj) is not dict:
        raise EventInvalid(f"an event must be a JSON object, got {_typename(obj)}")
    event_id = obj.get("id")
    if type(event_id) is not str or not event_id:
        if event_id is None:
            raise EventInvalid("missing required field 'id'")
        raise EventInvalid(f"field 'id' must be a non-empty string, got {_typename(event_id)}")
    if len(event_id) > ID_MAX_LEN:
        raise EventInvalid(f"field 'id' is longer than {ID_MAX_LEN} characters")
    if "\x00" in event_id:  # a key in the relational store, where PostgreSQL refuses U+0000
        raise EventInvalid("field 'id' contains a NUL character")
    raw_type = obj.get("type")
    fields = FIELDS.get(raw_type) if type(raw_type) is str else None
    if fields is None:
        if raw_type is None:
            raise EventInvalid("missing required field 'type'")
        raise EventInvalid(
            f"unknown type {str(raw_type)[:40]!r}; expected one of {', '.join(FIELDS)}"
        )
    etype = cast(str, raw_type)
    if "ts" not in obj:
        raise EventInvalid("missing required field 'ts'")
    ts = parse_ts(obj["ts"])
    account_id = obj.get("account_id")
    if account_id is None:
        if etype not in ACCOUNT_OPTIONAL:
            raise EventInvalid("missing required field 'account_id'")
    elif type(account_id) is not str or not account_id:
        raise EventInvalid(
            f"field 'account_id' must be a non-empty string, got {_typename(account_id)}"
        )
    elif "\x00" in account_id:
        raise EventInvalid("field 'account_id' contains a NUL character")
    elif len(account_id) > ACCOUNT_ID_MAX_LEN:
        raise EventInvalid(f"field 'account_id' is longer than {ACCOUNT_ID_MAX_LEN} characters")

    # One pass over what the object holds (fewer keys than the type declares, usually), with
    # the common case, a plain string field, decided by one set lookup and a type check.
    spec = _SPEC[etype]
    plain = _PLAIN[etype]
    data: dict[str, Any] = {}
    attrs: dict[str, Any] | None = None
    for name, value in obj.items():
        if name in plain:
            if type(value) is str:
                data[name] = value
                continue
            if value is None:
                continue
        field = spec.get(name)
        if field is None:
            if name not in ENVELOPE:
                if type(value) is dict or type(value) is list:
                    _check_nested(name, value)
                if attrs is None:
                    attrs = {}
                attrs[name] = value
        elif value is not None:
            data[name] = _check(field, value)
    for name in _REQUIRED[etype]:
        if name not in data:
            raise EventInvalid(f"missing required field '{name}' for type {etype}")
    for name, limit in _LIMITED[etype]:
        value = data.get(name)
        if value is not None and len(value) > limit:
            raise EventInvalid(f"field '{name}' is longer than {limit} characters")
    for name, default in _DEFAULTS[etype]:
        if name not in data:
            data[name] = default
    if etype == "report" and "report_id" not in data:
        data["report_id"] = event_id
    return Event(event_id, etype, ts, account_id, data, attrs)


# Per type, lookups the validator makes for every event, prepared once.
_SPEC: Final[dict[str, dict[str, Field]]] = {
    etype: {f.name: f for f in fields} for etype, fields in FIELDS.items()
}
_PLAIN: Final[dict[str, frozenset[str]]] = {
    etype: frozenset(f.name for f in fields if f.kind == "str" and f.choices is None)
    for etype, fields in FIELDS.items()
}
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    etype: tuple(f.name for f in fields if f.required) for etype, fields in FIELDS.items()
}
_DEFAULTS: Final[dict[str, tuple[tuple[str, Any], ...]]] = {
    etype: tuple((f.name, f.default) for f in fields if f.default is not None)
    for etype, fields in FIELDS.items()
}
_LIMITED: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    etype: tuple((f.name, f.max_len) for f in fields if f.max_len is not None)
    for etype, fields in FIELDS.items()
}
