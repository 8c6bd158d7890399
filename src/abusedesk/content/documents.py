"""What a model reads of a message: a normalised text and extra tokens, per channel.

SMS: the body. Email: the subject and the text of the parts, plus header tokens; from raw
bytes (`email_document`) or from a `message` event's `subject`, `body` and `headers`
(`event_document`), so a model trained on mbox files scores events and the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from abusedesk.content.header_tokens import VALUES_READ, header_tokens, subject_caps
from abusedesk.content.html_text import html_to_text, looks_like_html
from abusedesk.content.mime import DEFAULT_LIMITS, Limits, Mail, decode_header, parse_mail
from abusedesk.content.normalize import normalize, text_key

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")
# Event channels read by each model: the SMS model reads every short-message channel.
MODEL_OF_CHANNEL: Mapping[str, Channel] = {
    "sms": "sms",
    "mms": "sms",
    "whatsapp": "sms",
    "rcs": "sms",
    "email": "email",
}


class Document(NamedTuple):
    text: str
    extra: tuple[str, ...] = ()


def sms_document(text: str) -> Document:
    return Document(normalize(text))


# Characters of an email's text the model reads: the first 3,000 (the median message has 1,000;
# what decides is near the top, and the work per message stays bounded).
MAX_MAIL_CHARS = 3000
# A subject is cut here when parsed (mime.py, event_mail): the two parts stay within
# MAX_MODEL_CHARS, which mail_document relies on.
MAX_SUBJECT_CHARS = 1000


def mail_document(mail: Mail) -> Document:
    """normalize(f"{subject}\n{text}"), computed as the two halves joined by a space: the same
    string (normalize works token by token, and the two are shorter than MAX_MODEL_CHARS),
    and a plain body's half is then the campaign index's normalize(body), cached."""
    subject = normalize(mail.subject[:MAX_SUBJECT_CHARS])
    text = normalize(mail.text[:MAX_MAIL_CHARS])
    joined = f"{subject} {text}" if subject and text else subject or text
    return Document(joined, tuple(header_tokens(mail)))


def email_document(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Document:
    return mail_document(parse_mail(raw, limits))


def _headers_of(value: Any) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(h.get("name"), h.get("value")) for h in value if isinstance(h, Mapping)]
    else:
        return headers
    for name, item in items[: DEFAULT_LIMITS.max_headers]:
        if not isinstance(name, str):
            continue
        for one in item if isinstance(item, list) else [item]:
            if isinstance(one, str):
                headers.setdefault(name.lower(), []).append(one[:8192])
    return headers


def event_mail(data: Mapping[str, Any]) -> Mail:
    """A `message` event's email fields as a parsed message."""
    headers = _headers_of(data.get("headers"))
    sender = data.get("from")
    if isinstance(sender, str) and "from" not in headers:
        headers["from"] = [sender]
    subject = data.get("subject")
    body = data.get("body")
    mail = Mail(headers=headers)
    mail.subject = decode_header(subject)[:MAX_SUBJECT_CHARS] if isinstance(subject, str) else ""
    if isinstance(body, str):
        body = body[: DEFAULT_LIMITS.max_text_chars]
        if looks_like_html(body):
            mail.html = True
            mail.text = html_to_text(body)
        else:
            mail.plain = True
            mail.text = body
    return mail


def event_document(data: Mapping[str, Any]) -> tuple[Channel, Document] | None:
    """The model channel and document of a `message` event's fields; None when the event has
    no text a model reads (another channel, or no body)."""
    channel = MODEL_OF_CHANNEL.get(str(data.get("channel")))
    if channel is None:
        return None
    if channel == "sms":
        body = data.get("body")
        return ("sms", sms_document(body)) if isinstance(body, str) and body else None
    if not data.get("body") and not data.get("subject"):
        return None
    return "email", mail_document(event_mail(data))


def email_key(data: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A key of an email `message` event such that events with equal keys have the same
    event_document; None when the event is not the common case it covers. Fenced speed code
    (tests/content/test_scoring_paths.py compares the documents of equal keys): the scorer
    memoises scores on it, so a repeated template costs the keys of its subject and body
    instead of parsing headers and building the document.

    Why it is exact, for a subject without encoded words and a body that is not HTML:
    event_mail then keeps the subject as it is (cut to MAX_SUBJECT_CHARS) and the body as
    plain text, so the document's text is normalize(subject) and normalize(body[:MAX_MAIL_CHARS])
    joined, each a function of its text_key; its header tokens are a function of the headers
    (a dict of strings: their names in order, and the values of header_tokens.VALUES_READ),
    the sender, "plain" and subject_caps(subject).
    """
    subject = data.get("subject")
    body = data.get("body")
    headers = data.get("headers")
    sender = data.get("from")
    if not isinstance(subject, str) or not isinstance(body, str) or not (subject or body):
        return None
    if "=?" in subject or looks_like_html(body) or not isinstance(sender, str | None):
        return None
    if headers is None:
        frozen: tuple[Any, ...] = ()
    elif isinstance(headers, dict):
        # A header whose value no token reads keys by its name alone: List-Unsubscribe links
        # and Message-IDs are unique per message.
        items = []
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                return None
            items.append((name, value) if name.lower() in VALUES_READ else name)
        frozen = tuple(items)
    else:
        return None
    subject = subject[:MAX_SUBJECT_CHARS]
    return (
        text_key(subject),
        text_key(body[: DEFAULT_LIMITS.max_text_chars][:MAX_MAIL_CHARS]),
        frozen,
        sender,
        subject_caps(subject),
    )
