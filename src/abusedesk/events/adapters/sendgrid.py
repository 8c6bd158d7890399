"""SendGrid Event Webhook batches -> canonical events (docs/formats/sendgrid.md).

SendGrid posts a JSON array of events; people who log them keep NDJSON or one array per line, so
all three are read. Each SendGrid event becomes at most one canonical event, with the id
"sendgrid:<sg_event_id>". The platform customer is not in SendGrid's data: the sending platform
adds it as a custom argument (`account_id`, or `abusedesk_account`), which SendGrid echoes as a
top-level key of every event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from abusedesk.events import jsontext
from abusedesk.events.adapters.base import Item, Limits
from abusedesk.events.adapters.jsondoc import (
    Malformed,
    convert_each,
    from_unix,
    looks_like_json,
    make_id,
    need_str,
    opt_str,
    shallow,
    show,
    top_obj,
    typename,
)

Event = dict[str, Any]

_ACCOUNT_KEYS = ("account_id", "abusedesk_account")
# Engagement and account-status events: counted in `skipped`, not kept.
_SKIPPED = frozenset({"open", "click", "group_resubscribe", "account_status_change"})
_DELIVERY = {"processed": "queued", "delivered": "delivered", "deferred": "deferred"}
_OPT_OUT = frozenset({"unsubscribe", "group_unsubscribe"})
# "spam_report" appears in some third-party typings; SendGrid itself sends "spamreport".
_COMPLAINT = frozenset({"spamreport", "spam_report"})
_KEPT = frozenset(_DELIVERY) | _OPT_OUT | _COMPLAINT | {"bounce", "dropped"}
# SendGrid's own keys, mapped below or deliberately dropped (tracking details). Every other
# top-level key is a custom argument and is kept under `custom_args`.
_EXTRAS = {
    "smtp-id": "smtp_id",
    "response": "response",
    "attempt": "attempt",
    "reason": "reason",
    "ip": "sending_ip",
    "tls": "tls",
    "bounce_classification": "bounce_classification",
    "asm_group_id": "asm_group_id",
    "marketing_campaign_id": "marketing_campaign_id",
    "singlesend_id": "singlesend_id",
    "template_id": "template_id",
}
_NATIVE = (
    frozenset(_EXTRAS)
    | frozenset(_ACCOUNT_KEYS)
    | {
        "email",
        "timestamp",
        "event",
        "sg_event_id",
        "sg_message_id",
        "category",
        "status",
        "type",
        "cert_err",
        "useragent",
        "url",
        "url_offset",
        "sg_machine_open",
        "sg_content_type",
        "sg_template_id",
        "sg_template_name",
        "marketing_campaign_name",
        "marketing_campaign_version",
        "marketing_campaign_split_id",
        "singlesend_name",
        "template_version_id",
        "template_hash",
        "pool",
        "send_at",
    }
)


class SendGridAdapter:
    name: ClassVar[str] = "sendgrid"
    description: ClassVar[str] = "SendGrid Event Webhook batches (JSON array, NDJSON)"

    def __init__(self) -> None:
        self.skipped = 0  # events of the last parse that are valid but not canonical events
        # The subuser whose Event Webhook sent these batches (`abusedesk ingest --subuser`):
        # SendGrid's payload does not name it; each subuser has its own webhook endpoint.
        self.subuser: str | None = None

    def sniff(self, head: bytes, filename: str) -> bool:
        if not looks_like_json(head):
            return False
        if b'"sg_event_id"' in head or b'"sg_message_id"' in head:
            return True
        # Legacy batches: SendGrid's own keys without the sg_ ids.
        return b'"smtp-id"' in head and b'"event"' in head and b'"timestamp"' in head

    def parse(self, stream: BinaryIO, source: str, limits: Limits) -> Iterator[Item]:
        self.skipped = 0
        seen: dict[str, str] = {}  # sg_event_id -> the content digest first seen with it

        def convert(value: object) -> list[Event] | None:
            event = _convert(value)
            if event is None:
                return None
            _distinct_id(event, value, seen)
            if self.subuser is not None:
                event["subuser"] = self.subuser  # the account map reads it (docs/formats.md)
            return [event]

        yield from convert_each(stream, source, limits, convert, self._skip)

    def _skip(self) -> None:
        self.skipped += 1


def _digest(value: object) -> str:
    """A digest of one SendGrid event as sent: the same event posted again (SendGrid retries a
    batch it got no 2xx for) has the same one."""
    assert isinstance(value, dict)
    body = jsontext.dumps(value, sort_keys=True)
    return hashlib.sha256(body).hexdigest()[:24]


def _distinct_id(event: Event, value: object, seen: dict[str, str]) -> None:
    """sg_event_id names one event, and SendGrid's retries repeat it with the same content;
    so a repeated id with *different* content in one batch is not a retry (hand-made and
    legacy batches reuse one placeholder id) and gets its content digest appended."""
    sg_id = event["id"]
    digest = _digest(value)
    first = seen.setdefault(sg_id, digest)
    if first != digest:
        event["id"] = make_id(sg_id, digest)


def _convert(value: object) -> Event | None:
    sg = top_obj(value, "a SendGrid event")
    name = need_str(sg, "event", "event")
    if name in _SKIPPED:
        return None
    if name not in _KEPT:
        raise Malformed(f"unknown SendGrid event {name[:40]!r}")
    if sg.get("sg_event_id") is None:
        # Legacy (v1/v2) batches have no event id: the event's own content stands in, so the
        # same batch taken in twice still counts once.
        event_id = "legacy:" + _digest(sg)
    else:
        event_id = need_str(sg, "sg_event_id", "sg_event_id")
    if sg.get("timestamp") is None:
        raise Malformed("'timestamp' is missing")
    ts = from_unix(sg["timestamp"])
    if ts is None:
        raise Malformed(f"'timestamp' is not unix seconds: {show(sg['timestamp'])}")
    event: Event = {"id": make_id("sendgrid", event_id), "ts": ts, "account_id": _account(sg)}
    message_id = _message_id(sg)
    email = opt_str(sg, "email", "email")
    if name in _OPT_OUT:
        if email is None:
            raise Malformed(f"the {name} event has no 'email'")
        event |= {"type": "opt_out", "recipient": email, "keyword": "unsubscribe"}
        event["channel"] = "email"
        _put(event, "message_id", message_id)
    elif name in _COMPLAINT:
        event |= {"type": "complaint", "source": "fbl", "feedback_type": "abuse"}
        _put(event, "recipient", email)
        _put(event, "message_id", message_id)
    else:
        if message_id is None:
            raise Malformed(f"the {name} event has no 'sg_message_id' nor 'smtp-id'")
        event |= {"type": "delivery", "message_id": message_id}
        event |= _status(name, sg)
        _put(event, "recipient", email)
    _put(event, "category", _category(sg))
    pool = sg.get("pool")
    if type(pool) is dict and type(pool.get("name")) is str and pool["name"]:
        event["ip_pool"] = pool["name"]  # the account map reads it (docs/formats.md)
    _add_extras(event, sg)
    return event


def _status(name: str, sg: dict[str, Any]) -> Event:
    """status, bounce_type and error_code of a delivery-kind event."""
    if name in _DELIVERY:
        return {"status": _DELIVERY[name]}
    code = _code(sg)
    fields: Event = {"error_code": code} if code is not None else {}
    if name == "dropped":  # never sent: SendGrid suppressed it (reason says why)
        return fields | {"status": "failed"}
    kind = opt_str(sg, "type", "type")
    if kind == "blocked":  # the receiver refused this time; the address may still be good
        return fields | {"status": "failed"}
    # type "bounce" is a hard bounce (SendGrid suppresses the address); without a type we
    # cannot tell.
    bounce_type = "permanent" if kind == "bounce" else "undetermined"
    return fields | {"status": "bounced", "bounce_type": bounce_type}


def _code(sg: dict[str, Any]) -> str | None:
    value = sg.get("status")
    if value is None or value == "":
        return None
    if type(value) is int:
        return str(value)
    if type(value) is not str:
        raise Malformed(f"'status' must be a string, got {typename(value)}")
    return value


def _account(sg: dict[str, Any]) -> str | None:
    """The account_id custom argument; None when the sender set none (most real payloads): the
    pipeline then maps the subuser, IP pool, category or unique args (docs/formats.md)."""
    for key in _ACCOUNT_KEYS:
        account = opt_str(sg, key, key)
        if account is not None:
            return account
    return None


def _message_id(sg: dict[str, Any]) -> str | None:
    """The id SendGrid returned as X-Message-Id when the mail was sent.

    sg_message_id is that id plus the relay that handled it: "14c5d75ce93.dfd.64b469.filter0001
    .16648.5515E0B88.0" (older ids contain dots) or "euo2iKxdSayPF4YE4--I7A.recvd-5f54...-6.0"
    (newer ones). Cutting at ".filter" or ".recvd" gives X-Message-Id either way, so events of
    one message share a message_id. Without sg_message_id, the local part of smtp-id is the same
    id on older accounts.
    """
    sg_id = opt_str(sg, "sg_message_id", "sg_message_id")
    if sg_id is not None:
        for marker in (".filter", ".recvd"):
            sg_id = sg_id.split(marker, 1)[0]
        return sg_id or None
    smtp_id = opt_str(sg, "smtp-id", "smtp-id")
    if smtp_id is None:
        return None
    return smtp_id.strip().strip("<>").split("@", 1)[0] or None


def _category(sg: dict[str, Any]) -> list[str] | None:
    value = sg.get("category")
    if value is None:
        return None
    if type(value) is str:
        return [value]
    if type(value) is list and all(type(item) is str for item in value):
        return value
    raise Malformed("'category' must be a string or a list of strings")


def _add_extras(event: Event, sg: dict[str, Any]) -> None:
    for key, name in _EXTRAS.items():
        value = sg.get(key)
        if value is not None and value != "" and shallow(value, 1):
            event[name] = value
    custom = {key: value for key, value in sg.items() if key not in _NATIVE and shallow(value, 4)}
    if custom:
        event["custom_args"] = custom


def _put(event: Event, key: str, value: object) -> None:
    if value is not None:
        event[key] = value
