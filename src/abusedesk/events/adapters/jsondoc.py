"""Shared pieces of the JSON webhook adapters (SES, SendGrid, Mailgun) and the Twilio log adapter.

Providers hand us the same events in three shapes: one JSON document (a webhook body, an object
or an array, often pretty-printed), NDJSON (one value per line: what people keep when they log
webhook bodies), and SendGrid's batches logged one array per line. `iter_objects` tells them
apart from the first bytes, so the adapters only ever see one decoded value at a time with its
`Location`. Everything here is bounded by `Limits`: a document is read in chunks and refused once
it passes `max_message_bytes`, and an NDJSON line past `max_line_bytes` is skipped without being
kept in memory.

JSON is decoded with orjson, which refuses invalid UTF-8, NaN/Infinity and nesting deeper than
1024 levels with an error instead of a RecursionError (the standard library's json module dies on
100,000 nested arrays).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, BinaryIO, ParamSpec, TypeVar

import orjson

from abusedesk.events import jsontext
from abusedesk.events.adapters.base import Item, Limits, Location, Record, Rejected, excerpt
from abusedesk.events.schema import UNATTRIBUTED

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "INTERNAL_ERROR",
    "Malformed",
    "as_list",
    "as_obj",
    "decode_or_malformed",
    "excerpt_value",
    "from_unix",
    "guarded",
    "iter_objects",
    "looks_like_json",
    "make_id",
    "need_str",
    "opt_str",
    "parse_datetime",
    "rfc3339",
    "shallow",
    "show",
    "top_obj",
    "typename",
]

_BOM = b"\xef\xbb\xbf"
_CHUNK = 65_536
# validate_event refuses ids over 256 characters; ids built from hostile input are hashed instead.
_MAX_ID = 256


_T = TypeVar("_T")
_P = ParamSpec("_P")

INTERNAL_ERROR = "internal error while reading this input"


class Malformed(Exception):  # noqa: N818 - reads as a verdict on the input, like EventInvalid
    """One input object cannot become events; `reason` is the sentence for the quarantine.

    Raised and caught inside an adapter (never escapes `parse`): it lets the field readers below
    stop a conversion from any depth without threading error values through every call.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def guarded(convert: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run one conversion; an exception it did not mean to raise becomes a Malformed for that
    input only, so a bug met by strange input costs one item and not the rest of the file. The
    tests fail whenever this happens, so it is a last resort, not a way of reporting."""
    try:
        return convert(*args, **kwargs)
    except Malformed:
        raise
    except Exception as exc:
        raise Malformed(f"{INTERNAL_ERROR} ({type(exc).__name__})") from exc


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Value:
    data: Any
    line: int | None  # NDJSON line; None for a whole (multi-line) document


def iter_objects(
    stream: BinaryIO, source: str, limits: Limits
) -> Iterator[tuple[Any, Location] | Rejected]:
    """Each top-level JSON value of the input, with a top-level array opened up into its items.

    An item of an array gets `item` (1-based) in its Location; a value from NDJSON gets `line`.
    Values are not checked: the adapter decides what an acceptable object is.
    """
    for value in _iter_values(stream, source, limits.max_line_bytes, limits.max_message_bytes):
        if isinstance(value, Rejected):
            yield value
        elif isinstance(value.data, list):
            for index, item in enumerate(value.data, 1):
                yield item, Location(source, line=value.line, item=index)
        else:
            yield value.data, Location(source, line=value.line)


def _iter_values(
    stream: BinaryIO, source: str, max_line: int, max_doc: int
) -> Iterator[_Value | Rejected]:
    head, complete = _read_bounded(stream, max_doc)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    first_no, first, rest = _first_line(head)
    if first_no == 0:
        return  # empty or blank input: nothing to take in, nothing wrong
    if complete and not rest.strip():
        # A single line is a whole document (a webhook body) and may be up to max_doc long.
        yield _decode_line(first, first_no, source)
    elif _looks_complete(first):
        yield from _iter_lines(_Prefixed(head, stream), source, max_line)
    elif complete:
        yield from _decode_document(head, rest, stream, source, max_line)
    elif _ndjson_tail(rest, complete=False):
        yield from _iter_lines(_Prefixed(head, stream), source, max_line)
    else:
        reason = f"the document is larger than {max_doc} bytes (limits.max_message_bytes)"
        yield Rejected(Location(source, line=first_no), reason, excerpt(head))


def _decode_document(
    head: bytes, rest: bytes, stream: BinaryIO, source: str, max_line: int
) -> Iterator[_Value | Rejected]:
    try:
        yield _Value(_decode(head), None)
    except _JsonError as exc:
        if _ndjson_tail(rest, complete=True):
            # The first line is broken but every other line is a JSON value of its own: this is
            # NDJSON with a bad first line, and the good lines must still go in.
            yield from _iter_lines(_Prefixed(head, stream), source, max_line)
        else:
            reason = f"the document is not valid JSON: {exc}"
            yield Rejected(Location(source, line=exc.line), reason, excerpt(head))


def _read_bounded(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """Up to limit + 1 bytes, in chunks; True when the stream ended within the limit."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _first_line(head: bytes) -> tuple[int, bytes, bytes]:
    """(1-based number, stripped content, everything after) of the first non-blank line."""
    number, start = 0, 0
    while start < len(head):
        end = head.find(b"\n", start)
        end = len(head) if end < 0 else end
        number += 1
        line = head[start:end].strip()
        if line:
            return number, line, head[end + 1 :]
        start = end + 1
    return 0, b"", b""


def _looks_complete(line: bytes) -> bool:
    """Whether one line holds a whole object or array (an NDJSON line, not a document's start)."""
    return len(line) >= 2 and line[:1] in b"{[" and line[-1:] in b"}]"


def _ndjson_tail(rest: bytes, complete: bool) -> bool:
    lines = rest.split(b"\n")
    if not complete:
        lines = lines[:-1]  # cut off by the bound, so not judged
    stripped = [line.strip() for line in lines]
    present = [line for line in stripped if line]
    return bool(present) and all(_looks_complete(line) for line in present)


def _iter_lines(raw: io.RawIOBase, source: str, max_line: int) -> Iterator[_Value | Rejected]:
    reader = io.BufferedReader(raw, buffer_size=_CHUNK)
    number = 0
    while True:
        line = reader.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            _skip_rest_of_line(reader)
            reason = f"line {number} is longer than {max_line} bytes (limits.max_line_bytes)"
            yield Rejected(Location(source, line=number), reason, excerpt(line))
            continue
        content = line.strip()
        if content:
            yield _decode_line(content, number, source)


def _skip_rest_of_line(reader: io.BufferedReader[io.RawIOBase]) -> None:
    while True:
        piece = reader.readline(_CHUNK)
        if not piece or piece.endswith(b"\n"):
            return


def _decode_line(content: bytes, number: int, source: str) -> _Value | Rejected:
    try:
        return _Value(_decode(content), number)
    except _JsonError as exc:
        reason = f"line {number} is not valid JSON: {exc}"
        return Rejected(Location(source, line=number), reason, excerpt(content))


class _JsonError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _decode(data: bytes | str) -> Any:
    """Decode one JSON value; raise _JsonError with orjson's message (it names line and column)."""
    try:
        return jsontext.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _JsonError(str(exc), exc.lineno or None) from None


def decode_or_malformed(data: str, what: str) -> Any:
    """Decode JSON nested in a string field (SNS's `Message`), as a Malformed on failure."""
    try:
        return _decode(data)
    except _JsonError as exc:
        raise Malformed(f"{what} is not valid JSON: {exc}") from None


class _Prefixed(io.RawIOBase):
    """The bytes already read to sniff the shape, then the rest of the stream, as one stream."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(target), len(self._prefix))
            target[:count] = self._prefix[:count]
            # An empty slice would still hold the whole head: let it go once it is read.
            self._prefix = self._prefix[count:] if count < len(self._prefix) else memoryview(b"")
            return count
        data = self._rest.read(len(target))
        target[: len(data)] = data
        return len(data)


def looks_like_json(head: bytes) -> bool:
    """Whether a sniffed head starts like a JSON object or array (after a BOM and blanks)."""
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    return head.lstrip()[:1] in (b"{", b"[")


# --- field readers ---------------------------------------------------------------------------


def typename(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    names |= {list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def show(value: object) -> str:
    """A bad scalar as a short literal; a container by its type (it may be huge)."""
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, dict | list):
        return typename(value)
    return repr(value)[:40]


def as_obj(value: object, path: str) -> dict[str, Any]:
    if value is None:
        raise Malformed(f"'{path}' is missing")
    if type(value) is not dict:
        raise Malformed(f"'{path}' must be an object, got {typename(value)}")
    return value


def top_obj(value: object, what: str) -> dict[str, Any]:
    """A top-level input value, which must be an object."""
    if type(value) is not dict:
        raise Malformed(f"expected {what} (a JSON object), got {typename(value)}")
    return value


def as_list(value: object, path: str) -> list[Any]:
    if value is None:
        raise Malformed(f"'{path}' is missing")
    if type(value) is not list:
        raise Malformed(f"'{path}' must be a list, got {typename(value)}")
    return value


def opt_str(obj: dict[str, Any], key: str, path: str) -> str | None:
    """obj[key] as a string; None when absent, null or empty; Malformed for another type."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise Malformed(f"'{path}' must be a string, got {typename(value)}")
    return value


def need_str(obj: dict[str, Any], key: str, path: str) -> str:
    value = opt_str(obj, key, path)
    if value is None:
        raise Malformed(f"'{path}' is missing")
    return value


def shallow(value: object, max_depth: int = 8) -> bool:
    """Whether a value nests at most max_depth levels: safe to keep in attrs and to re-encode
    (orjson.dumps refuses more than 254 levels; input may carry 1024). Iterative on purpose."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def excerpt_value(value: object) -> str:
    """A short piece of a decoded value for the quarantine."""
    if not shallow(value, 200):
        return "(nested too deeply to show)"
    try:
        return excerpt(jsontext.dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        return "(cannot be shown)"


def make_id(*parts: str) -> str:
    """Join id parts with ':'; an id longer than the schema allows keeps its prefix and hashes
    the rest, so it stays deterministic and unique."""
    event_id = ":".join(parts)
    if len(event_id) <= _MAX_ID:
        return event_id
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{parts[0]}:sha256:{digest}"


# --- timestamps ------------------------------------------------------------------------------

# Up to 9999-12-31T23:59:59Z; later instants cannot be a datetime.
_MAX_UNIX = 253_402_300_799
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)


def rfc3339(moment: datetime) -> str:
    """An aware datetime as canonical RFC 3339 in UTC ('2026-03-01T12:00:00Z'), with only as
    many fraction digits as it has (SES's '.237' stays '.237')."""
    moment = moment.astimezone(UTC)
    if moment.microsecond == 0:
        spec = "seconds"
    elif moment.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def from_unix(value: object) -> str | None:
    """Unix seconds (int or float) as RFC 3339; None for any other type or an absurd value."""
    if type(value) is not int and type(value) is not float:
        return None
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= _MAX_UNIX:
        return None
    return rfc3339(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds))


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 / RFC 3339 (also with a space or 'UTC' before the zone, as SES and Twilio write
    it) or RFC 2822. No zone means UTC: every provider here logs in UTC. None when unreadable."""
    text = text.strip()
    if len(text) > 64:
        return None
    match = _ISO.fullmatch(text)
    if match is None:
        return _parse_rfc2822(text)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            micro,
            tzinfo=_zone(zone),
        )
    except ValueError:  # 2024-02-30, hour 25, offset +99:00, ...
        return None


def _zone(text: str | None) -> timezone:
    if text is None or text in ("Z", "z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes > 59:
        raise ValueError("minutes of the offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))  # ValueError past 24 h


def _parse_rfc2822(text: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the zone is unknown; it is UTC in practice
        moment = moment.replace(tzinfo=UTC)
    return moment


def convert_each(
    stream: BinaryIO,
    source: str,
    limits: Limits,
    convert: Callable[[Any], list[dict[str, Any]] | None],
    on_skip: Callable[[], None],
) -> Iterator[Item]:
    """The loop of an adapter whose input objects each become some events (or none: skipped).
    A malformed object is rejected with its location; the next one is read all the same."""
    for entry in iter_objects(stream, source, limits):
        if isinstance(entry, Rejected):
            yield entry
            continue
        value, where = entry
        try:
            events = guarded(convert, value)
        except Malformed as exc:
            yield Rejected(where, exc.reason, excerpt_value(value))
            continue
        if events is None:
            on_skip()
            continue
        for event in events:
            yield unattributed_or_record(event, where)


# An adapter may name the account to fall back on when the pipeline finds none (SES: the AWS
# account that sent the mail); the key never reaches an event.
FALLBACK_ACCOUNT = "_fallback_account_id"


def unattributed_or_record(event: dict[str, Any], where: Location) -> Record:
    """A Record; one whose payload named no account (`account_id` None) waits for the pipeline
    to find it (its message, the workspace account map, the registry) and else falls back to
    the adapter's FALLBACK_ACCOUNT or is kept as unattributed: never rejected."""
    fallback_account = event.pop(FALLBACK_ACCOUNT, None) or UNATTRIBUTED
    if event.get("account_id") is not None:
        return Record(event, where)
    event.pop("account_id", None)
    return Record(event, where, {**event, "account_id": fallback_account})
