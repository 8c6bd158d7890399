"""Amazon SES notifications -> canonical events (docs/formats/ses.md).

Takes bounce, complaint and delivery notifications as SNS delivers them (raw or still in their SNS
envelope) and configuration-set event publishing records (`eventType`, which adds Send, Reject
and DeliveryDelay). One notification names several recipients, so it becomes one event per
recipient. A notification is the unit of quarantine: if any part of it is malformed, none of its
events go in, so a half-read bounce never understates a bounce rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, ClassVar

from abusedesk.events.adapters.base import Item, Limits
from abusedesk.events.adapters.jsondoc import (
    FALLBACK_ACCOUNT,
    Malformed,
    as_list,
    as_obj,
    convert_each,
    decode_or_malformed,
    looks_like_json,
    make_id,
    need_str,
    opt_str,
    parse_datetime,
    rfc3339,
    top_obj,
)

Event = dict[str, Any]

# Engagement and subscription records say nothing about abuse; they are counted, not kept.
_SKIPPED_TYPES = frozenset(
    {"Open", "Click", "Rendering Failure", "RenderingFailure", "Subscription"}
)
# SNS and SES housekeeping messages that arrive on the same topic as the notifications.
_SKIPPED_SNS = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})
# "Received": SES email receiving (inbound mail to the platform), not a sending event.
_SKIPPED_NOTICES = frozenset({"AmazonSnsSubscriptionSucceeded", "Received"})
_BOUNCE_TYPES = {"Permanent": "permanent", "Transient": "transient", "Undetermined": "undetermined"}
_FEEDBACK_TYPES = frozenset({"abuse", "fraud", "virus", "other", "not-spam", "auth-failure"})
# SES does not count these toward the account's bounce or complaint rate (it never sent them).
_NOT_COUNTED = "OnAccountSuppressionList"


class SesAdapter:
    name: ClassVar[str] = "ses"
    description: ClassVar[str] = (
        "Amazon SES notifications and event publishing records (raw or in an SNS envelope)"
    )

    def __init__(self) -> None:
        self.skipped = 0  # records of the last parse that are valid but not canonical events

    def sniff(self, head: bytes, filename: str) -> bool:
        if not looks_like_json(head):
            return False
        has_type = b"notificationType" in head or b"eventType" in head
        if has_type and b"mail" in head and b"messageId" in head:
            return True
        # SNS housekeeping posted to the same endpoint: recognised here so it is skipped.
        housekeeping = b"SubscriptionConfirmation" in head or b"UnsubscribeConfirmation" in head
        return housekeeping and b'"Type"' in head and b'"TopicArn"' in head

    def parse(self, stream: BinaryIO, source: str, limits: Limits) -> Iterator[Item]:
        self.skipped = 0
        yield from convert_each(stream, source, limits, _convert, self._skip)

    def _skip(self) -> None:
        self.skipped += 1


def _convert(value: object) -> list[Event] | None:
    """The events of one notification; None when it is valid but not one we keep."""
    note = _unwrap_sns(top_obj(value, "an SES notification"))
    if note is None:
        return None
    kind = opt_str(note, "notificationType", "notificationType") or opt_str(
        note, "eventType", "eventType"
    )
    if kind is None:
        raise Malformed("not an SES notification: 'notificationType' and 'eventType' are missing")
    if kind in _SKIPPED_TYPES or kind in _SKIPPED_NOTICES:
        return None
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise Malformed(f"unknown SES notification type {kind[:40]!r}")
    mail = as_obj(note.get("mail"), "mail")
    events = handler(note, mail, _Common(mail))
    if not events:
        raise Malformed(f"the {kind} notification names no recipient")
    return _unique(events)


def _unwrap_sns(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The SES notification inside an SNS envelope (or obj itself when it is not one)."""
    if obj.get("Type") is None or "mail" in obj:
        return obj
    sns_type = need_str(obj, "Type", "Type")
    if sns_type in _SKIPPED_SNS:
        return None
    if sns_type != "Notification":
        raise Malformed(f"unknown SNS message Type {sns_type[:40]!r}")
    message = need_str(obj, "Message", "Message")
    return as_obj(decode_or_malformed(message, "the SNS 'Message'"), "Message")


class _Common:
    """What every event of one notification shares: its message, account and mail time."""

    def __init__(self, mail: dict[str, Any]) -> None:
        self.mail = mail
        self.message_id = need_str(mail, "messageId", "mail.messageId")
        self.account_id = _tag_account(mail)
        self.sending_account = opt_str(mail, "sendingAccountId", "mail.sendingAccountId")
        if self.account_id is None and self.sending_account is None:
            raise Malformed("no account id: no 'account_id' tag and no 'mail.sendingAccountId'")

    def base(self, etype: str, event_id: str, ts: str) -> Event:
        event: Event = {"id": event_id, "type": etype, "ts": ts, "account_id": self.account_id}
        if self.account_id is None:
            # No account tag: the workspace account map or the registry may know the customer
            # (configuration set, source ARN, tags, sender); else the sending AWS account.
            event[FALLBACK_ACCOUNT] = self.sending_account
        return event | self.kept()

    def kept(self) -> Event:
        """Fields of `mail` a desk uses to find and judge the sender, kept on every event (as
        attrs): the RFC Message-ID, every tag (configuration set, source IP, from-domain,
        caller identity and the sender's own), the sending identity and the envelope sender."""
        mail = self.mail
        kept: Event = {}
        common = mail.get("commonHeaders")
        if type(common) is dict and type(common.get("messageId")) is str:
            kept["rfc_message_id"] = common["messageId"].strip().strip("<>")
        tags = mail.get("tags")
        if type(tags) is dict and tags:
            kept["tags"] = {
                str(k)[:128]: [v for v in vals if type(v) is str][:20]
                for k, vals in list(tags.items())[:50]
                if type(vals) is list
            }
        for key, name in (
            ("sourceArn", "source_arn"),
            ("source", "mail_from"),
            ("sendingAccountId", "sending_account_id"),
            ("sourceIp", "source_ip"),
        ):
            if type(mail.get(key)) is str and mail[key]:
                kept[name] = mail[key]
        return kept

    def ts(self, part: dict[str, Any], path: str) -> str:
        """The part's own timestamp (when the bounce/complaint/delivery happened), else the
        time the mail was sent."""
        if part.get("timestamp") is not None:
            return _timestamp(part, f"{path}.timestamp")
        if self.mail.get("timestamp") is not None:
            return _timestamp(self.mail, "mail.timestamp")
        raise Malformed(f"no timestamp: '{path}.timestamp' and 'mail.timestamp' are missing")


def _timestamp(obj: dict[str, Any], path: str) -> str:
    text = need_str(obj, "timestamp", path)
    moment = parse_datetime(text)
    if moment is None:
        raise Malformed(f"'{path}' is not an ISO 8601 timestamp: {text[:40]!r}")
    return rfc3339(moment)


def _tag_account(mail: dict[str, Any]) -> str | None:
    """The platform customer when the sending platform set a message tag for it (event
    publishing carries tags); None otherwise."""
    tags = mail.get("tags")
    if tags is not None:
        tags = as_obj(tags, "mail.tags")
        for key in ("account_id", "abusedesk-account"):
            if tags.get(key) is None:
                continue
            values = as_list(tags[key], f"mail.tags.{key}")
            if values and type(values[0]) is str and values[0]:
                return values[0]
            raise Malformed(f"'mail.tags.{key}' must hold a non-empty string")
    return None


def _first_tag(mail: dict[str, Any], key: str) -> str | None:
    tags = mail.get("tags")
    if type(tags) is not dict or type(tags.get(key)) is not list or not tags[key]:
        return None
    value = tags[key][0]
    return value if type(value) is str and value else None


def _recipients(part: dict[str, Any], key: str, path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """(entry, email address) of each object in a list of recipient objects."""
    for index, item in enumerate(as_list(part.get(key), f"{path}.{key}")):
        where = f"{path}.{key}[{index}]"
        entry = as_obj(item, where)
        yield entry, need_str(entry, "emailAddress", f"{where}.emailAddress")


def _addresses(obj: dict[str, Any], key: str, path: str) -> Iterator[str]:
    for index, address in enumerate(as_list(obj.get(key), f"{path}.{key}")):
        if type(address) is not str or not address:
            raise Malformed(f"'{path}.{key}[{index}]' must be an email address")
        yield address


def _bounce(note: dict[str, Any], mail: dict[str, Any], c: _Common) -> list[Event]:
    bounce = as_obj(note.get("bounce"), "bounce")
    ts = c.ts(bounce, "bounce")
    bounce_type = opt_str(bounce, "bounceType", "bounce.bounceType")
    subtype = opt_str(bounce, "bounceSubType", "bounce.bounceSubType")
    feedback_id = opt_str(bounce, "feedbackId", "bounce.feedbackId") or c.message_id
    events = []
    for entry, address in _recipients(bounce, "bouncedRecipients", "bounce"):
        event = c.base("delivery", make_id("ses", feedback_id, "bounce", address), ts)
        event |= {"message_id": c.message_id, "status": "bounced", "recipient": address}
        if bounce_type in _BOUNCE_TYPES:
            event["bounce_type"] = _BOUNCE_TYPES[bounce_type]
        path = "bounce.bouncedRecipients[]"
        _put(event, "error_code", opt_str(entry, "status", f"{path}.status"))
        _put(event, "bounce_subtype", subtype)
        _put(event, "diagnostic_code", opt_str(entry, "diagnosticCode", f"{path}.diagnosticCode"))
        _put(event, "reporting_mta", opt_str(bounce, "reportingMTA", "bounce.reportingMTA"))
        _put(event, "remote_mta_ip", opt_str(bounce, "remoteMtaIp", "bounce.remoteMtaIp"))
        _put(event, "action", opt_str(entry, "action", f"{path}.action"))
        if subtype == _NOT_COUNTED:
            event["counts_toward_rate"] = False
        events.append(event)
    return events


def _complaint(note: dict[str, Any], mail: dict[str, Any], c: _Common) -> list[Event]:
    complaint = as_obj(note.get("complaint"), "complaint")
    ts = c.ts(complaint, "complaint")
    feedback_id = opt_str(complaint, "feedbackId", "complaint.feedbackId") or c.message_id
    feedback = opt_str(complaint, "complaintFeedbackType", "complaint.complaintFeedbackType")
    subtype = opt_str(complaint, "complaintSubType", "complaint.complaintSubType")
    agent = opt_str(complaint, "userAgent", "complaint.userAgent")
    events = []
    for _, address in _recipients(complaint, "complainedRecipients", "complaint"):
        event = c.base("complaint", make_id("ses", feedback_id, "complaint", address), ts)
        event |= {"message_id": c.message_id, "source": "fbl", "recipient": address}
        if feedback in _FEEDBACK_TYPES:
            event["feedback_type"] = feedback
        else:
            _put(event, "feedback_type_raw", feedback)
        _put(event, "complaint_subtype", subtype)
        _put(event, "user_agent", agent)
        _put(event, "arrival_date", opt_str(complaint, "arrivalDate", "complaint.arrivalDate"))
        if subtype == _NOT_COUNTED:
            event["counts_toward_rate"] = False
        events.append(event)
    return events


def _delivery(note: dict[str, Any], mail: dict[str, Any], c: _Common) -> list[Event]:
    delivery = as_obj(note.get("delivery"), "delivery")
    ts = c.ts(delivery, "delivery")
    response = opt_str(delivery, "smtpResponse", "delivery.smtpResponse")
    events = []
    for address in _addresses(delivery, "recipients", "delivery"):
        event = c.base("delivery", make_id("ses", c.message_id, "delivery", address), ts)
        event |= {"message_id": c.message_id, "status": "delivered", "recipient": address}
        _put(event, "smtp_response", response)
        _put(event, "reporting_mta", opt_str(delivery, "reportingMTA", "delivery.reportingMTA"))
        _put(event, "remote_mta_ip", opt_str(delivery, "remoteMtaIp", "delivery.remoteMtaIp"))
        events.append(event)
    return events


def _send(note: dict[str, Any], mail: dict[str, Any], c: _Common) -> list[Event]:
    ts = c.ts(as_obj(note.get("send", {}), "send"), "send")
    sender = need_str(mail, "source", "mail.source")
    common = mail.get("commonHeaders")
    subject = None
    if common is not None:
        subject = opt_str(as_obj(common, "mail.commonHeaders"), "subject", "mail.commonHeaders")
    headers = _headers(mail)
    events = []
    for address in _addresses(mail, "destination", "mail"):
        event = c.base("message", make_id("ses", c.message_id, "send", address), ts)
        event |= {"message_id": c.message_id, "channel": "email", "direction": "outbound"}
        event |= {"from": sender, "to": address}
        _put(event, "subject", subject)
        _put(event, "headers", headers)
        _put(event, "sender_ip", opt_str(mail, "sourceIp", "mail.sourceIp"))
        _put(event, "api_key_id", opt_str(mail, "callerIdentity", "mail.callerIdentity"))
        _put(event, "campaign_id", _first_tag(mail, "ses:configuration-set"))
        events.append(event)
    return events


def _headers(mail: dict[str, Any]) -> dict[str, str] | None:
    """mail.headers as name -> value; the first of repeated headers wins (Received, ...)."""
    if mail.get("headers") is None:
        return None
    headers: dict[str, str] = {}
    for index, item in enumerate(as_list(mail["headers"], "mail.headers")):
        entry = as_obj(item, f"mail.headers[{index}]")
        name = need_str(entry, "name", f"mail.headers[{index}].name")
        value = opt_str(entry, "value", f"mail.headers[{index}].value") or ""
        headers.setdefault(name, value)
    return headers or None


def _reject(note: dict[str, Any], mail: dict[str, Any], c: _Common) -> list[Event]:
    reject = as_obj(note.get("reject", {}), "reject")
    ts = c.ts(reject, "reject")
    reason = opt_str(reject, "reason", "reject.reason")
    events = []
    for address in _addresses(mail, "destination", "mail"):
        event = c.base("delivery", make_id("ses", c.message_id, "reject", address), ts)
        event |= {"message_id": c.message_id, "status": "failed", "recipient": address}
        _put(event, "reject_reason", reason)
        events.append(event)
    return events


def _delay(note: dict[str, Any], mail: dict[str, Any], c: _Common) -> list[Event]:
    delay = as_obj(note.get("deliveryDelay"), "deliveryDelay")
    ts = c.ts(delay, "deliveryDelay")
    delay_type = opt_str(delay, "delayType", "deliveryDelay.delayType")
    events = []
    for entry, address in _recipients(delay, "delayedRecipients", "deliveryDelay"):
        # SES may report several delays for one recipient: the time keeps their ids apart.
        event_id = make_id("ses", c.message_id, "delay", address, ts)
        event = c.base("delivery", event_id, ts)
        event |= {"message_id": c.message_id, "status": "deferred", "recipient": address}
        path = "deliveryDelay.delayedRecipients[]"
        _put(event, "error_code", opt_str(entry, "status", f"{path}.status"))
        _put(event, "delay_type", delay_type)
        _put(event, "diagnostic_code", opt_str(entry, "diagnosticCode", f"{path}.diagnosticCode"))
        events.append(event)
    return events


def _put(event: Event, key: str, value: object) -> None:
    if value is not None:
        event[key] = value


def _unique(events: list[Event]) -> list[Event]:
    """A recipient listed twice is one fact: keep one event per id."""
    seen: set[str] = set()
    kept = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            kept.append(event)
    return kept


_Handler = Callable[[dict[str, Any], dict[str, Any], _Common], list[Event]]
_HANDLERS: dict[str, _Handler] = {
    "Bounce": _bounce,
    "Complaint": _complaint,
    "Delivery": _delivery,
    "Send": _send,
    "Reject": _reject,
    "DeliveryDelay": _delay,
}
