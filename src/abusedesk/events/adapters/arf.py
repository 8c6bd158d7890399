"""ARF feedback reports (RFC 5965), one message or an mbox of them, as `complaint` events.

A report is written by a mailbox provider, but it carries the original message, which was written
by whoever sent it, possibly the account we are about to act against; and anyone can mail our
abuse address. So every step is bounded: the mbox is split while streaming, each message is
capped in size, the MIME tree is walked breadth-first with a part budget and a depth cap (never by
the recursive stdlib parser), only header blocks are parsed, and only the two parts we need are
ever decoded. The walker stops at the first multipart that holds a `message/feedback-report`, so
parts of the attached original (the spam itself) neither count against the budget nor get read.

See docs/formats/arf.md for the field mapping and every bound.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO, ClassVar

from abusedesk.events.adapters.base import Item, Limits, Location, Record, Rejected, excerpt

Headers = dict[str, list[str]]  # lower-cased name -> cleaned values, in order

_READ_CHUNK = 65_536  # readline() bound while splitting an mbox: long lines arrive in pieces
_HEAD = 800  # bytes of a message kept for the quarantine excerpt
_MAX_DEPTH = 8  # real reports nest 1 (3 when forwarded); deeper is a bomb
_MAX_HEADER_LINE = 16_384  # RFC 5322 says 998; longer lines are dropped, not parsed
_MAX_HEADER_BYTES = 131_072  # Postfix truncates header blocks at 100 KiB by default
_MAX_HEADER_LINES = 2_000
_MAX_FIELDS_BYTES = 65_536  # the machine-readable part is a few hundred bytes in practice
_MAX_VALUE = 1_000  # characters kept of any one value
_MAX_LIST = 20  # values kept of a repeated field
_MAX_EVIDENCE = 500

_FEEDBACK = "message/feedback-report"
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
# The third part is "message/rfc822 or text/rfc822-headers"; generators also use the others.
_ORIGINAL_TYPES = _MESSAGE_TYPES | {
    "text/rfc822-headers",
    "message/rfc822-headers",
    "message/global-headers",
    "text/rfc822",
}
_FEEDBACK_TYPES = frozenset({"abuse", "fraud", "virus", "other", "not-spam", "auth-failure"})
# A fallback report for feedback that is not a spam complaint must not say "spam".
_CATEGORY = {
    "fraud": "fraud",
    "virus": "other",
    "not-spam": "other",
    "auth-failure": "other",
    "opt-out": "other",
    "opt-out-list": "other",
}
# Feedback types (draft ARF, still sent by some providers) that mean "unsubscribe me".
_OPT_OUT_TYPES = frozenset({"opt-out", "opt-out-list"})
# Obsolete or local zone names seen in real report dates that the stdlib parser leaves unzoned
# (it knows UT/GMT/Z and the North American ones). Only unambiguous names are listed.
_ZONES = {
    "JST": "+0900",
    "KST": "+0900",
    "HKT": "+0800",
    "SGT": "+0800",
    "CET": "+0100",
    "CEST": "+0200",
    "MET": "+0100",
    "MEST": "+0200",
    "WET": "+0000",
    "WEST": "+0100",
    "EET": "+0200",
    "EEST": "+0300",
    "BST": "+0100",
    "MSK": "+0300",
    "AEST": "+1000",
    "AEDT": "+1100",
    "NZST": "+1200",
    "NZDT": "+1300",
    "UTC": "+0000",
}
_ZONE_NAME = re.compile(r"\s([A-Z]{3,4})\s*(?:\([^)]*\))?\s*$")
_RECEIVED_DATE = re.compile(r";\s*([^;]+)$")
_BRACKET_IP = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]{3,45})\]")
# Outlook.com / Hotmail (Microsoft JMRP) reports: multipart/mixed, the original attached as
# message/rfc822, the complainant in this header of the original. No feedback-report part.
_JMRP_RECIPIENT = "x-hmxmroriginalrecipient"
_ANTI_SPAM_ORGS = ("spamcop", "spamhaus", "abusix", "surbl", "uribl", "sorbs")
_ACCOUNT_HEADERS = ("x-abusedesk-account", "x-account-id")
# RFC 6591 auth-failure fields worth keeping; the canonicalized header/body dumps are not.
_AUTH_FAILURE_FIELDS = {
    "auth-failure": "auth_failure",
    "delivery-result": "delivery_result",
    "dkim-domain": "dkim_domain",
    "dkim-identity": "dkim_identity",
    "dkim-selector": "dkim_selector",
    "spf-dns": "spf_dns",
}

# compat32, not policy.default: compat32 stores header values as raw strings and never parses
# them on access, so a malformed address or date cannot raise or hit the slow paths of the
# modern header-value parser (which has had several quadratic-time and crash bugs). We decode
# and interpret the few values we need ourselves, with errors="replace".
_PARSER = BytesHeaderParser(policy=policy.compat32)
_BLANK_AFTER = re.compile(rb"\n\r?\n")
_NEWLINES = re.compile(rb"[\r\n]*")
_FOLD = re.compile(r"\r?\n[ \t]*|\r")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t]+(?==\?)")
_ANGLE = re.compile(r"<([^<>]*)>")
_ACCOUNT_ID = re.compile(r"[!-~]{1,128}")  # printable ASCII, no spaces; garbage never matches
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


@dataclass(frozen=True, slots=True)
class _Raw:
    """One message cut out of the input; `data` is None when it was over the size limit."""

    where: Location
    data: bytes | None
    head: bytes


@dataclass(frozen=True, slots=True)
class _Entity:
    """One MIME entity of a message held as offsets into it, so nothing is copied."""

    headers: Headers
    ctype: str
    boundary: bytes | None
    body: int
    end: int
    depth: int
    message: Headers  # headers of the nearest enclosing message (itself, for a message)


@dataclass(frozen=True, slots=True)
class _Found:
    report: _Entity
    original: _Entity | None
    message: Headers


class ArfAdapter:
    name: ClassVar[str] = "arf"
    description: ClassVar[str] = (
        "ARF feedback reports (RFC 5965): one .eml message or an mbox of them, as complaints"
    )

    def sniff(self, head: bytes, filename: str) -> bool:
        if filename.lower().endswith((".eml", ".mbox", ".arf")):
            return True
        lowered = head[:65_536].lower()
        return b"multipart/report" in lowered and b"feedback-report" in lowered

    def parse(self, stream: BinaryIO, source: str, limits: Limits) -> Iterator[Item]:
        for raw in _messages(stream, source, limits.max_message_bytes):
            if raw.data is None:
                reason = f"message larger than {limits.max_message_bytes} bytes (max_message_bytes)"
                yield Rejected(raw.where, reason, excerpt(raw.head))
                continue
            try:
                yield _convert(raw.data, raw.where, limits)
            except Exception as exc:
                # Last resort: every known hostile shape is handled above this line, but the
                # stdlib email package has a history of raising on odd input, and one bad report
                # must not stop the rest of an mbox. The type name keeps such cases findable.
                reason = f"unparseable message ({type(exc).__name__})"
                yield Rejected(raw.where, reason, excerpt(raw.data[:_HEAD]))


# --- splitting the input into messages -------------------------------------------------------


def _messages(stream: BinaryIO, source: str, cap: int) -> Iterator[_Raw]:
    first = stream.readline(_READ_CHUNK)
    if first.startswith(b"From "):
        yield from _mbox(stream, first, source, cap)
        return
    # One more byte than allowed tells "exactly at the limit" from "over it".
    data = first if len(first) > cap else first + _read_upto(stream, cap + 1 - len(first))
    yield _Raw(Location(source, line=1), data if len(data) <= cap else None, data[:_HEAD])


def _read_upto(stream: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _mbox(stream: BinaryIO, first: bytes, source: str, cap: int) -> Iterator[_Raw]:
    """Split on "From " lines while reading; an oversize message is dropped as it streams.

    Any line starting "From " separates (as Python's mailbox module does): writers quote body
    lines as ">From ", and one unquoted line costs at worst a rejected fragment. mboxrd quoting
    is undone by removing one ">" from lines matching ">+From ".
    """
    item = line = start = size = 0
    chunks: list[bytes] = []
    head = b""
    oversize = in_separator = False
    at_line_start = True
    chunk = first
    while chunk:
        starts_line, at_line_start = at_line_start, chunk.endswith(b"\n")
        if starts_line:
            line += 1
            in_separator = False
            if chunk.startswith(b"From "):
                if item:
                    yield _Raw(Location(source, start, item), _join(chunks, oversize), head)
                item, start, size, chunks, head, oversize = item + 1, line, 0, [], b"", False
                in_separator = not at_line_start  # the rest of a long separator line follows
                chunk = stream.readline(_READ_CHUNK)
                continue
            if chunk.startswith(b">") and chunk.lstrip(b">").startswith(b"From "):
                chunk = chunk[1:]
        elif in_separator:
            chunk = stream.readline(_READ_CHUNK)
            continue
        if not oversize:
            if len(head) < _HEAD:
                head += chunk[: _HEAD - len(head)]
            size += len(chunk)
            if size > cap:  # let go of it now: an oversize message is never held whole
                oversize, chunks = True, []
            else:
                chunks.append(chunk)
        chunk = stream.readline(_READ_CHUNK)
    yield _Raw(Location(source, start, item), _join(chunks, oversize), head)


def _join(chunks: list[bytes], oversize: bool) -> bytes | None:
    return None if oversize else b"".join(chunks)


# --- walking the MIME tree -------------------------------------------------------------------


def _find_report(buf: bytes, limits: Limits) -> _Found | str:
    """Breadth-first search for the multipart holding the feedback report, or why it failed.

    Breadth-first so that a genuine report (feedback part at depth 1, or 2-3 when forwarded)
    is found before any deep or wide junk elsewhere is explored.
    """
    root = _entity(buf, 0, len(buf), 0, None)
    if root.ctype == _FEEDBACK:  # a bare feedback block with no wrapper: lenient, no original
        return _Found(root, None, root.headers)
    count = 1
    queue = deque([root])
    while queue:
        node = queue.popleft()
        message: Headers | None
        if node.ctype.startswith("multipart/") and node.boundary:
            ranges = _split(buf, node.body, node.end, node.boundary)
            message = node.message
        elif node.ctype in _MESSAGE_TYPES:
            ranges = iter([(node.body, node.end)])
            message = None  # the embedded message is its own enclosing message
        else:
            continue
        if node.depth >= _MAX_DEPTH:
            return f"MIME nesting deeper than {_MAX_DEPTH} levels"
        children: list[_Entity] = []
        for start, end in ranges:
            count += 1
            if count > limits.max_mime_parts:
                return f"more than {limits.max_mime_parts} MIME parts (max_mime_parts)"
            children.append(_entity(buf, start, end, node.depth + 1, message))
        for index, child in enumerate(children):
            if child.ctype == _FEEDBACK:
                return _Found(child, _pick_original(children, index), node.message)
        queue.extend(c for c in children if c.ctype in _MESSAGE_TYPES or c.boundary)
    return "not an ARF report: no message/feedback-report part"


def _pick_original(siblings: list[_Entity], report: int) -> _Entity | None:
    # The spec puts it right after the report; some generators put it elsewhere.
    ordered = siblings[report + 1 :] + siblings[:report]
    return next((s for s in ordered if s.ctype in _ORIGINAL_TYPES), None)


def _entity(buf: bytes, start: int, end: int, depth: int, message: Headers | None) -> _Entity:
    headers, body = _header_block(buf, start, end)
    ctype, boundary = _content_type(headers)
    return _Entity(
        headers, ctype, boundary, body, end, depth, headers if message is None else message
    )


def _content_type(headers: Headers) -> tuple[str, bytes | None]:
    value = _first(headers, "content-type")
    if not value:
        return "text/plain", None
    # A scratch compat32 Message gives us its quoting and RFC 2231 handling for one value.
    scratch = Message()
    scratch["Content-Type"] = value
    ctype = scratch.get_content_type()
    if not ctype.startswith("multipart/"):
        return ctype, None
    boundary = scratch.get_boundary()
    return ctype, boundary.encode("utf-8") if boundary else None


def _split(buf: bytes, start: int, end: int, boundary: bytes) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) of each body part, lazily so a bomb stops at the part budget.

    A missing close delimiter (a truncated message) ends the last part at the end of input.
    """
    delimiter = re.compile(rb"^--" + re.escape(boundary) + rb"(--)?[ \t]*\r?$", re.MULTILINE)
    part_start: int | None = None
    for match in delimiter.finditer(buf, start, end):
        if part_start is not None:
            part_end = match.start()  # the line break before a delimiter belongs to it
            if part_end > part_start and buf[part_end - 1] == 0x0A:
                part_end -= 1
            if part_end > part_start and buf[part_end - 1] == 0x0D:
                part_end -= 1
            yield part_start, part_end
        if match.group(1):
            return
        part_start = match.end() + (1 if match.end() < end else 0)
    if part_start is not None and part_start < end:
        yield part_start, end


# --- header blocks ---------------------------------------------------------------------------


def _header_block(buf: bytes, start: int, end: int, *, fields: bool = False) -> tuple[Headers, int]:
    """Parse the header block at buf[start:end]; return it and the offset of the body.

    Lines over _MAX_HEADER_LINE are dropped with their continuations, so a sender cannot hide
    Message-ID or our correlation headers behind one huge header. `fields`: the body of a
    feedback-report part, where a stray blank line is skipped rather than ending the block.
    """
    kept: list[bytes] = []
    kept_bytes = scanned = 0
    dropping = False
    pos, body = start, end
    while pos < end:
        newline = buf.find(b"\n", pos, end)
        stop = end if newline < 0 else newline + 1
        size = stop - pos
        scanned += 1  # blank lines too: in `fields` mode they are skipped, and must be bounded
        if size <= 2 and buf[pos:stop] in (b"\n", b"\r\n"):
            if not fields:
                body = stop
                break
            pos = stop
            continue
        too_long = size > _MAX_HEADER_LINE
        if scanned > _MAX_HEADER_LINES or (not too_long and kept_bytes + size > _MAX_HEADER_BYTES):
            if not fields:  # stop parsing, but still find where the body starts
                found = _BLANK_AFTER.search(buf, pos, end)
                body = found.end() if found else end
            break
        continuation = buf[pos] in b" \t"
        if too_long:
            dropping = dropping or not continuation
        elif not (continuation and dropping):
            dropping = False
            kept.append(buf[pos:stop])
            kept_bytes += size
        pos = stop
    headers: Headers = {}
    for name, value in _PARSER.parsebytes(b"".join(kept)).raw_items():
        values = headers.setdefault(_clean(str(name)).lower(), [])
        if len(values) < _MAX_LIST:
            values.append(_clean(str(value)))
    return headers, body


def _clean(value: str) -> str:
    """Header text as parsed (ASCII plus escaped raw bytes) to bounded, printable Unicode.

    Raw 8-bit bytes are read as UTF-8 (RFC 6532) with errors="replace", so garbage becomes
    U+FFFD instead of lone surrogates that would break JSON encoding later.
    """
    text = value[: _MAX_VALUE * 4].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _CONTROL.sub("\ufffd", _FOLD.sub(" ", text).replace("\t", " "))
    return text.strip()[:_MAX_VALUE]


def _first(headers: Headers, name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words, decoded leniently.

    Not email.header.decode_header: it raises on bad base64 and on unknown charsets, and it
    hands back unencoded runs re-encoded as raw-unicode-escape.
    """
    if "=?" not in text:
        return text
    text = _BETWEEN_WORDS.sub(r"\1", text)  # whitespace between adjacent words is not text

    def word(match: re.Match[str]) -> str:
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        payload = match.group(3).encode("ascii", "replace")
        if match.group(2) in "bB":
            data = _b64decode(payload)
        else:
            data = binascii.a2b_qp(payload, header=True)
        try:
            return data.decode(charset, "replace")
        except (LookupError, ValueError):  # unknown ("x-bogus"), not a text codec, or one
            # that refuses errors="replace" (idna raises UnicodeError for it)
            return data.decode("utf-8", "replace")

    decoded = _ENCODED_WORD.sub(word, text)
    # Codecs such as unicode_escape can yield lone surrogates; JSON encoders refuse those.
    decoded = decoded.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("\ufffd", decoded)[:_MAX_VALUE]


def _b64decode(data: bytes) -> bytes:
    """Base64 that never raises: junk characters dropped, padding repaired."""
    data = _B64_JUNK.sub(b"", data)
    if len(data) % 4 == 1:
        data = data[:-1]
    data += b"=" * (-len(data) % 4)
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return b""


def _part_headers(buf: bytes, part: _Entity, *, fields: bool) -> Headers:
    """Parse the body of `part` as a header block, decoding a transfer encoding if any.

    Only a bounded prefix is ever decoded: we want headers, never the original's body.
    """
    limit = _MAX_FIELDS_BYTES if fields else _MAX_HEADER_BYTES
    encoding = _first(part.headers, "content-transfer-encoding").lower()
    if encoding == "base64":
        data = _b64decode(buf[part.body : min(part.end, part.body + limit * 2)])[:limit]
        start, end = 0, len(data)
    elif encoding == "quoted-printable":
        data = binascii.a2b_qp(buf[part.body : min(part.end, part.body + limit * 3)])[:limit]
        start, end = 0, len(data)
    else:  # not copied: _header_block bounds what it reads
        data, start, end = buf, part.body, part.end
    skipped = _NEWLINES.match(data, start, end)  # leading blank lines: seen in the wild
    start = skipped.end() if skipped else start
    return _header_block(data, start, end, fields=fields)[0]


# --- building the events ---------------------------------------------------------------------


def _convert(data: bytes, where: Location, limits: Limits) -> Item:
    if not data or data.isspace():
        return Rejected(where, "empty message")
    found = _find_report(data, limits)
    if isinstance(found, str):
        jmrp = _find_jmrp(data, limits)
        if jmrp is None:
            return Rejected(where, found, excerpt(data[:_HEAD]))
        fields, original, message = jmrp
        return _build(data, where, fields, original, message)
    fields = _part_headers(data, found.report, fields=True)
    original = _part_headers(data, found.original, fields=False) if found.original else {}
    return _build(data, where, fields, original, found.message)


def _find_jmrp(buf: bytes, limits: Limits) -> tuple[Headers, Headers, Headers] | None:
    """A Microsoft JMRP report as (feedback fields, original headers, report headers).

    Its machine-readable facts live in the attached original: the complainant in
    X-HmXmrOriginalRecipient and the connecting IP in the Received header Microsoft added.
    The feedback fields are written in ARF terms so the rest of the mapping is shared."""
    root = _entity(buf, 0, len(buf), 0, None)
    if not root.ctype.startswith("multipart/") or not root.boundary:
        return None
    for count, (start, end) in enumerate(_split(buf, root.body, root.end, root.boundary), 1):
        if count >= limits.max_mime_parts:
            return None
        child = _entity(buf, start, end, 1, root.headers)
        if child.ctype not in _MESSAGE_TYPES:
            continue
        original = _part_headers(buf, child, fields=False)
        recipient = _first(original, _JMRP_RECIPIENT)
        if not recipient:
            continue
        fields: Headers = {
            "feedback-type": ["abuse"],
            "user-agent": ["Microsoft JMRP"],
            "original-rcpt-to": [recipient],
        }
        reporter = _address(_first(root.headers, "from"))
        if "@" in reporter:
            fields["reporting-mta"] = [reporter.rsplit("@", 1)[1]]
        source_ip = _received_ip(original)
        if source_ip:
            fields["source-ip"] = [source_ip]
        if original.get("authentication-results"):
            fields["authentication-results"] = original["authentication-results"]
        return fields, original, root.headers
    return None


def _received_ip(headers: Headers) -> str:
    """The bracketed IP of the first Received header that has one (the receiver's record of
    who connected)."""
    for value in headers.get("received", []):
        match = _BRACKET_IP.search(value.split(" by ", 1)[0])
        if match:
            return match.group(1)
    return ""


def _build(
    data: bytes, where: Location, fields: Headers, original: Headers, message: Headers
) -> Item:
    ts = (
        _date(fields, "arrival-date")
        or _date(fields, "received-date")
        or _date(message, "date")
        or _received_date(message)
    )
    if ts is None:
        reason = (
            "no usable date: Arrival-Date/Received-Date, the report's Date and its Received"
            " headers are missing or invalid"
        )
        return Rejected(where, reason, excerpt(data[:_HEAD]))
    # The report's own Message-ID makes the same report taken in twice count once, whichever
    # mailbox or mbox it was exported from; without one, the exact bytes have to do.
    report_mid = _first(message, "message-id")
    digest = hashlib.sha256(report_mid.encode() if report_mid else data).hexdigest()
    envelope = {"id": "arf:" + digest[:32], "ts": ts}

    complaint = _complaint(fields, original)
    account, conflict = _account(original)
    if conflict:
        complaint["account_header_conflict"] = conflict
    primary = _as_opt_out(complaint) if complaint["feedback_type"] in _OPT_OUT_TYPES else None
    event = primary or {"type": "complaint", **complaint}
    if account:
        return Record({**event, **envelope, "account_id": account}, where)
    fallback = _fallback(complaint, message, envelope["id"], ts)
    return Record({**event, **envelope}, where, fallback)


def _as_opt_out(complaint: dict[str, Any]) -> dict[str, Any] | None:
    """An opt-out feedback report is the recipient unsubscribing, not a spam complaint."""
    if "recipient" not in complaint:
        return None
    kept = {k: v for k, v in complaint.items() if k not in ("source", "feedback_type")}
    event = {"type": "opt_out", **kept, "keyword": complaint["feedback_type"], "channel": "email"}
    if complaint.get("original_mail_from"):
        event["sender"] = complaint["original_mail_from"]
    return event


def _complaint(fields: Headers, original: Headers) -> dict[str, Any]:
    """The complaint's fields and extra keys (kept as attrs); empty values are left out."""
    raw_type = _first(fields, "feedback-type")
    token = re.split(r"[\s;(]", raw_type.lower(), maxsplit=1)[0]
    feedback_type = token if token in _FEEDBACK_TYPES | _OPT_OUT_TYPES else "other"
    rcpt = _address(_first(fields, "original-rcpt-to"))
    mta = _first(fields, "reporting-mta")
    incidents = _first(fields, "incidents")
    out: dict[str, Any] = {
        "source": "fbl",
        "feedback_type": feedback_type,
        "feedback_type_raw": raw_type if raw_type and token != feedback_type else None,
        "recipient": rcpt if "@" in rcpt else None,  # "redacted" and the like name nobody
        "recipient_redacted": True if rcpt and _looks_redacted(rcpt) else None,
        "message_id": _message_id(_first(original, "message-id")),
        "user_agent": _first(fields, "user-agent"),
        "reporting_mta": mta.split(";", 1)[1].strip() if ";" in mta else mta,  # drop "dns;"
        "source_ip": _first(fields, "source-ip"),
        "original_mail_from": _address(_first(fields, "original-mail-from")),
        "reported_domain": fields.get("reported-domain"),
        "reported_uri": fields.get("reported-uri"),
        "authentication_results": fields.get("authentication-results"),  # often junk text
        "incidents": int(incidents) if re.fullmatch(r"[0-9]{1,9}", incidents) else None,
        "original_from": _decode_words(_first(original, "from")),
        "original_to": _decode_words(_first(original, "to")),
        "original_subject": _decode_words(_first(original, "subject")),
        "original_date": _first(original, "date"),
        "feedback_id": _first(original, "feedback-id"),
    }
    for name, key in _AUTH_FAILURE_FIELDS.items():
        out[key] = _first(fields, name)
    return {key: value for key, value in out.items() if value not in (None, "", [])}


def _fallback(
    complaint: dict[str, Any], message: Headers, event_id: str, ts: str
) -> dict[str, Any]:
    """The `report` to file instead when the pipeline cannot tell whose message it was."""
    feedback_type = complaint["feedback_type"]
    user_agent = complaint.get("user_agent", "unknown")
    mta = complaint.get("reporting_mta", "unknown")
    report: dict[str, Any] = {
        "id": event_id,  # the same id either way: taking the report in twice counts once
        "type": "report",
        "ts": ts,
        "report_id": event_id,
        "reporter": _reporter(user_agent, mta, _first(message, "from")),
        "category": _CATEGORY.get(feedback_type, "spam"),
    }
    target = complaint.get("original_mail_from") or _address(complaint.get("original_from", ""))
    if target:
        report["target"] = target
    report["description"] = f"ARF {feedback_type} report from {user_agent} via {mta}"[:_MAX_VALUE]
    evidence = [complaint.get("original_subject", ""), *complaint.get("reported_uri", [])]
    evidence = [item[:_MAX_EVIDENCE] for item in evidence if item][:_MAX_LIST]
    if evidence:
        report["evidence"] = evidence
    # The complaint's own fields stay on the report (as attrs): who complained, about which
    # message, from which IP, with what authentication results. They are what late linking
    # and a reviewer need; a report without them is a dead end.
    for key, value in complaint.items():
        report.setdefault(key, value)
    return report


def _date(headers: Headers, name: str) -> str | None:
    """RFC 2822 date to RFC 3339 UTC; None when missing, invalid or without a zone."""
    return _parse_date(_first(headers, name))


def _received_date(headers: Headers) -> str | None:
    """The time in the newest (first) Received header that has a usable one."""
    for value in headers.get("received", []):
        match = _RECEIVED_DATE.search(value)
        parsed = _parse_date(match.group(1)) if match else None
        if parsed:
            return parsed
    return None


def _parse_date(value: str) -> str | None:
    if not value:
        return None
    value = value[:200]
    zone = _ZONE_NAME.search(value)
    if zone and zone.group(1) in _ZONES:  # "Thu, 9 Apr 2006 23:34:45 JST"
        value = value[: zone.start()] + " " + _ZONES[zone.group(1)]
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000" or an unknown zone name: we never guess one
            return None
        return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _address(value: str) -> str:
    """The address in "Name <a@b>", "<a@b>" or "a@b"; "" for the null sender "<>"."""
    match = _ANGLE.search(value)
    if match:
        return match.group(1).strip()
    tokens = value.split()
    return next((t for t in tokens if "@" in t), value.strip())


def _message_id(value: str) -> str:
    match = _ANGLE.search(value)
    return (match.group(1) if match else value).strip()


def _looks_redacted(address: str) -> bool:
    """True for "redacted", "xxxxx@example.com", "***@..." (providers blank the user part)."""
    local = address.rsplit("@", 1)[0].lower() if "@" in address else ""
    if "@" not in address or "redacted" in local or "undisclosed" in local:
        return True
    return len(local) >= 3 and set(local) <= set("x*#._-")


def _account(original: Headers) -> tuple[str | None, str | None]:
    """The account from our correlation headers, in order; and a header that disagreed.

    The sender controls its own headers, so a header that appears with two different values
    (a forged copy beside ours) is not trusted and the next source is tried.
    """
    conflict = None
    for name in (*_ACCOUNT_HEADERS, "feedback-id"):
        values = {v for v in original.get(name, []) if v}
        if len(values) > 1:
            conflict = conflict or name
            continue
        if not values:
            continue
        value = values.pop()
        if name == "feedback-id":  # <campaign>:<customer>:<pool>:<espid>
            parts = value.split(":")
            value = parts[1].strip() if len(parts) == 4 else ""
        if _ACCOUNT_ID.fullmatch(value):
            return value, conflict
    return None, conflict


def _reporter(user_agent: str, mta: str, report_from: str) -> str:
    text = f"{user_agent} {mta} {report_from}".lower()
    return "anti_spam_org" if any(org in text for org in _ANTI_SPAM_ORGS) else "third_party"
