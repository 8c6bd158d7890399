"""Mailgun webhook payloads and Events API pages -> canonical events (docs/formats/mailgun.md).

A webhook body is {"signature": {...}, "event-data": {...}}; an Events API page is
{"items": [event-data, ...], "paging": {...}}. Both are read, alone, in an array or as NDJSON.
Signatures are not checked here (that belongs to the webhook endpoint, which has the signing
key) and `signature` is never copied into an event: its token and HMAC are credentials.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from abusedesk.events import jsontext
from abusedesk.events.adapters.base import Item, Limits, Location, Rejected
from abusedesk.events.adapters.jsondoc import (
    Malformed,
    as_obj,
    excerpt_value,
    from_unix,
    guarded,
    iter_objects,
    looks_like_json,
    make_id,
    need_str,
    opt_str,
    shallow,
    show,
    top_obj,
    typename,
    unattributed_or_record,
)

Event = dict[str, Any]

# Engagement, storage and mailing-list events: counted in `skipped`, not kept.
_SKIPPED = frozenset(
    {
        "opened",
        "clicked",
        "stored",
        "list_member_uploaded",
        "list_member_upload_error",
        "list_uploaded",
    }
)
_KEPT = frozenset({"delivered", "failed", "accepted", "rejected", "complained", "unsubscribed"})


class MailgunAdapter:
    name: ClassVar[str] = "mailgun"
    description: ClassVar[str] = "Mailgun webhook payloads and Events API pages (JSON, NDJSON)"

    def __init__(self) -> None:
        self.skipped = 0  # events of the last parse that are valid but not canonical events

    def sniff(self, head: bytes, filename: str) -> bool:
        if not looks_like_json(head):
            return False
        if b'"event-data"' in head:
            return True
        return b'"items"' in head and (b'"log-level"' in head or b'"recipient-domain"' in head)

    def parse(self, stream: BinaryIO, source: str, limits: Limits) -> Iterator[Item]:
        self.skipped = 0
        for entry in iter_objects(stream, source, limits):
            if isinstance(entry, Rejected):
                yield entry
                continue
            value, where = entry
            if type(value) is dict and "event-data" in value:
                yield from self._one(value["event-data"], value.get("signature"), where)
            elif type(value) is dict and "items" in value and "event" not in value:
                yield from self._page(value["items"], where)
            else:
                yield from self._one(value, None, where)

    def _page(self, items: object, where: Location) -> Iterator[Item]:
        """The events of an Events API page ({"items": [...], "paging": {...}})."""
        if type(items) is not list:
            reason = f"'items' of an Events API page must be a list, got {typename(items)}"
            yield Rejected(where, reason, excerpt_value(items))
            return
        for index, item in enumerate(items, 1):
            yield from self._one(item, None, Location(where.source, where.line, index))

    def _one(self, data: object, signature: object, where: Location) -> Iterator[Item]:
        try:
            event = guarded(_convert, data, signature)
        except Malformed as exc:
            if type(data) is dict:  # a quarantine excerpt must not carry a token either
                data = {key: value for key, value in data.items() if key != "signature"}
            yield Rejected(where, exc.reason, excerpt_value(data))
            return
        if event is None:
            self.skipped += 1
        else:
            yield unattributed_or_record(event, where)


def _convert(value: object, signature: object) -> Event | None:
    data = top_obj(value, "a Mailgun event")
    name = need_str(data, "event", "event-data.event")
    if name in _SKIPPED:
        return None
    if name not in _KEPT:
        raise Malformed(f"unknown Mailgun event {name[:40]!r}")
    if data.get("timestamp") is None:
        raise Malformed("'event-data.timestamp' is missing")
    ts = from_unix(data["timestamp"])
    if ts is None:
        raise Malformed(f"'event-data.timestamp' is not unix seconds: {show(data['timestamp'])}")
    event: Event = {"id": _event_id(data, signature), "ts": ts, "account_id": _account(data)}
    recipient = opt_str(data, "recipient", "event-data.recipient")
    message_id, sender = _message(data)
    if name == "complained":
        event |= {"type": "complaint", "source": "fbl", "feedback_type": "abuse"}
        _put(event, "recipient", recipient)
        _put(event, "message_id", message_id)
    elif name == "unsubscribed":
        if recipient is None:
            raise Malformed("the unsubscribed event has no 'recipient'")
        event |= {"type": "opt_out", "recipient": recipient, "keyword": "unsubscribe"}
        event["channel"] = "email"
        _put(event, "sender", sender)
        _put(event, "message_id", message_id)
    else:
        if message_id is None:
            raise Malformed(f"the {name} event has no 'message.headers.message-id'")
        event |= {"type": "delivery", "message_id": message_id}
        event |= _delivery(name, data)
        _put(event, "recipient", recipient)
    _add_extras(event, data)
    event |= _owner(data)
    return event


def _event_id(data: dict[str, Any], signature: object) -> str:
    """The signature token when there is one: event-data.id is unique only within a day, while
    the token is unique per webhook call (and a retried call repeats it)."""
    if type(signature) is dict:
        token = signature.get("token")
        if type(token) is str and token:
            return make_id("mailgun", token)
    if data.get("id") is None:
        # Trimmed payloads (library fixtures, hand-exported logs) lack the id: the content
        # stands in, so the same event taken in twice still counts once.
        body = jsontext.dumps(data, sort_keys=True)
        return make_id("mailgun", "sha256", hashlib.sha256(body).hexdigest()[:32])
    event_id = need_str(data, "id", "event-data.id")
    return make_id("mailgun", f"{event_id}:{data['timestamp']!r}")


def _account(data: dict[str, Any]) -> str | None:
    """The platform customer when the sending platform named it (`v:account_id`); else None,
    and the pipeline maps Mailgun's account id, the sending domain, tags or variables through
    the workspace's account map (docs/formats.md). Mailgun's own `account.id` is never taken
    for the customer: every payload now carries it, and on a platform with one Mailgun account
    it names the platform, not a customer."""
    variables = data.get("user-variables")
    # Mailgun sends an empty *list* when a message has no variables.
    if type(variables) is dict:
        account = opt_str(variables, "account_id", "event-data.user-variables.account_id")
        if account is not None:
            return account
    elif variables is not None and variables != []:
        raise Malformed(f"'event-data.user-variables' must be an object, got {typename(variables)}")
    return None


def _owner(data: dict[str, Any]) -> Event:
    """Mailgun's (sub)account id and the sending domain, kept for the account map."""
    out: Event = {}
    for key, field, name in (("account", "id", "mailgun_account"), ("domain", "name", "domain")):
        if data.get(key) is not None:
            found = opt_str(as_obj(data[key], f"event-data.{key}"), field, f"{key}.{field}")
            if found is not None:
                out[name] = found if name != "domain" else found.lower()
    if "domain" not in out:  # older payloads: the domain is in the stored message's URL
        storage = data.get("storage")
        url = storage.get("url") if type(storage) is dict else None
        if type(url) is str and "/domains/" in url:
            domain = url.split("/domains/", 1)[1].split("/", 1)[0].lower()
            if domain:
                out["domain"] = domain
    return out


def _message(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(Message-ID header, envelope sender) of the message an event is about."""
    message_id = None
    if data.get("message") is not None:
        message = as_obj(data["message"], "event-data.message")
        if message.get("headers") is not None:
            headers = as_obj(message["headers"], "event-data.message.headers")
            message_id = opt_str(headers, "message-id", "event-data.message.headers.message-id")
    sender = None
    if data.get("envelope") is not None:
        envelope = as_obj(data["envelope"], "event-data.envelope")
        sender = opt_str(envelope, "sender", "event-data.envelope.sender")
    return message_id, sender


def _delivery(name: str, data: dict[str, Any]) -> Event:
    if name == "delivered":
        return {"status": "delivered"}
    if name == "accepted":
        return {"status": "queued"}
    fields: Event = {}
    code = _status_code(data)
    if code is not None:
        fields["error_code"] = code
    if name == "rejected":  # Mailgun refused to send it at all
        return fields | {"status": "failed"}
    severity = opt_str(data, "severity", "event-data.severity")
    reason = opt_str(data, "reason", "event-data.reason") or ""
    if severity == "temporary":  # Mailgun retries: a deferral, not a bounce
        return fields | {"status": "deferred"}
    if severity != "permanent" or reason.startswith("suppress-"):
        # suppress-bounce / -complaint / -unsubscribe: dropped before any attempt, never sent
        return fields | {"status": "failed"}
    if reason == "old":  # gave up after temporary failures: a soft bounce, as SES reports it
        return fields | {"status": "bounced", "bounce_type": "transient"}
    return fields | {"status": "bounced", "bounce_type": "permanent"}


def _status_code(data: dict[str, Any]) -> str | None:
    if data.get("delivery-status") is None:
        return None
    status = as_obj(data["delivery-status"], "event-data.delivery-status")
    code = status.get("code")
    if code is None or code == "":
        return None
    if type(code) is int or type(code) is str:
        return str(code)
    raise Malformed(f"'delivery-status.code' must be a number, got {typename(code)}")


def _add_extras(event: Event, data: dict[str, Any]) -> None:
    for key in ("severity", "reason"):
        value = data.get(key)
        if type(value) is str and value:
            event[key] = value
    status = data.get("delivery-status")
    if type(status) is dict:
        for key, name in (("enhanced-code", "enhanced_code"), ("description", "delivery_message")):
            value = status.get(key)
            if type(value) is str and value:
                event[name] = value
        message = status.get("message")
        if "delivery_message" not in event and type(message) is str and message:
            event["delivery_message"] = message
    reject = data.get("reject")
    if type(reject) is dict and type(reject.get("reason")) is str and reject["reason"]:
        event["reject_reason"] = reject["reason"]
    tags = data.get("tags")
    if type(tags) is list and tags and all(type(tag) is str for tag in tags):
        event["tags"] = tags
    envelope = data.get("envelope")
    if type(envelope) is dict and type(envelope.get("sending-ip")) is str:
        event["sending_ip"] = envelope["sending-ip"]
    variables = data.get("user-variables")
    if type(variables) is dict:
        kept = {k: v for k, v in variables.items() if k != "account_id" and shallow(v, 4)}
        if kept:
            event["user_variables"] = kept
    if type(data.get("id")) is str:
        event["mailgun_event_id"] = data["id"]


def _put(event: Event, key: str, value: object) -> None:
    if value is not None:
        event[key] = value
