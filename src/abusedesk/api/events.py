"""POST /v1/events: ingest over HTTP with the same validation and quarantine as files."""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from abusedesk.api.auth import require
from abusedesk.api.responses import JSONBody
from abusedesk.auth.tokens import Principal
from abusedesk.errors import FormatError, LimitError
from abusedesk.events import jsontext
from abusedesk.events.summary import IngestSummary
from abusedesk.workspace import Workspace

router = APIRouter()


async def read_body(request: Request, limit: int, setting: str | None = None) -> bytes:
    """The body, refused over `limit` bytes. `setting` is the setting that sets the limit, named
    in the error; a route with a fixed limit passes none, and the error names no setting."""
    where = f" ({setting})" if setting else ""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LimitError(f"request body over {limit} bytes{where}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LimitError(f"request body over {limit} bytes{where}")
        chunks.append(chunk)
    return b"".join(chunks)


class Rejection(BaseModel):
    line: int | None = Field(default=None, description="1-based NDJSON line.")
    item: int | None = Field(default=None, description="1-based array item.")
    reason: str


class EventsAnswer(BaseModel):
    """The answer of POST /v1/events."""

    run_id: int | None = Field(description="The ingest run; null when the body held no event.")
    accepted: int = Field(description="Events taken in.")
    duplicates: int = Field(description="Events whose id was taken in before (counted once).")
    rejected: int = Field(description="Lines or items refused (and quarantined).")
    rejections: list[Rejection] = Field(
        description="The first rejected lines or items, in order, at most "
        "ABUSEDESK_API_MAX_REJECTIONS_SHOWN; `rejected` counts them all."
    )


@router.post(
    "/v1/events",
    summary="Ingest events",
    description=(
        "Body: a JSON array of canonical events, or NDJSON (one event per line). Good items go "
        "in even when others are rejected; a rejected item is quarantined with its reason. The "
        "answer counts accepted, duplicate (id taken in before) and rejected items and lists "
        "the first rejections (ABUSEDESK_API_MAX_REJECTIONS_SHOWN). At most "
        "ABUSEDESK_API_MAX_EVENTS items a request (413 beyond); a body with no item writes "
        "nothing and opens no ingest run (run_id null). Parsing and ingest run in a worker "
        "thread, so a large post does not hold up other requests' event loop."
    ),
    response_model=EventsAnswer,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "One canonical event a line."}
                },
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"type": "object", "description": "A canonical event."},
                    }
                },
            },
        }
    },
)
async def post_events(
    request: Request,
    principal: Annotated[Principal, Depends(require("events:write"))],
) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    data = await read_body(request, ws.settings.api_max_body_bytes, "ABUSEDESK_API_MAX_BODY_BYTES")
    consumers = request.app.state.consumers
    lock = request.app.state.write_lock

    def work() -> dict[str, Any]:
        # Off the event loop: a 30 MB body takes a good part of a second to parse and count.
        objects = _parse(data, ws.settings.api_max_events)
        if objects == []:
            # Nothing to take in: no run, no audit row, no write.
            return {"run_id": None, "accepted": 0, "duplicates": 0, "rejected": 0, "rejections": []}
        ingestor = ws.ingestor(
            consumers=consumers, actor=principal.name, origin="api", beside_decisions=True
        )
        # One writer at a time keeps SQLite from lock contention.
        with lock:
            if objects is None:
                summary = ingestor.ingest_bytes(data, source="http")
            else:
                summary = ingestor.ingest_objects(objects, source="http")
                _release(objects)
        return _answer(summary, ws.settings.api_max_rejections_shown)

    return JSONBody(await run_in_threadpool(work))


def _parse(data: bytes, limit: int) -> list[Any] | None:
    """The items of a JSON array body, or None for NDJSON (ingest reads it line by line);
    [] when the body holds no event. Refuses a body over `limit` items.

    This runs in a worker thread, but a C call holds the GIL, and the API's event loop (the
    decisions) waits for as long as one lasts: a single pass over a 20 MB body measured 20 ms
    to 0.7 s on a slow core. So the body is read a bounded piece at a time (see
    docs/api.md, "Ingest beside decisions")."""
    stripped = data.lstrip()
    objects: list[Any] | None = None
    if stripped.startswith(b"["):
        objects = _array_items(stripped)
        count = len(objects)
    else:
        count = _count_lines(data)
    if count > limit:
        raise LimitError(f"request carries {count} events, over {limit} (ABUSEDESK_API_MAX_EVENTS)")
    return [] if count == 0 else objects


# Body bytes per C call: 512 KiB take under a millisecond on a slow core.
_SLICE_BYTES: Final = 1 << 19
_RAW_ITEMS: Final = msgspec.json.Decoder(list[msgspec.Raw])
# Decoded items freed per step (_release).
_SLICE_ITEMS: Final = 256


def _count_lines(data: bytes) -> int:
    """The non-blank lines of an NDJSON body (bytes.splitlines' lines), counted a slice at a
    time; each slice ends after a newline, so no line is cut."""
    count = 0
    start = 0
    size = len(data)
    while start < size:
        cut = data.find(b"\n", start + _SLICE_BYTES)
        end = size if cut < 0 else cut + 1
        count += sum(1 for line in data[start:end].splitlines() if line.strip())
        start = end
    return count


def _array_items(body: bytes) -> list[Any]:
    """The items of a JSON array body, each parsed by itself (events/jsontext.py, as before).

    msgspec finds where each item starts and ends in one pass (about 10 ms for 20 MB), and
    checks the text is JSON; jsontext.loads over the whole body took 0.8 s in one call, most
    of it the regex that looks for long integers. orjson stays the judge of what is valid:
    when either parser refuses, the error is orjson's over the whole body, as before."""
    try:
        items = [jsontext.loads(bytes(raw)) for raw in _RAW_ITEMS.decode(body)]
    except (msgspec.DecodeError, orjson.JSONDecodeError):
        try:
            return list(jsontext.loads(body))
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"body is not a valid JSON array: {exc}") from None
    return items


def _release(items: list[Any]) -> None:
    """Empty `items` a slice at a time: 10,000 decoded items freed in one go hold the GIL
    for about 10 ms (one deallocation runs to its end without a switch)."""
    while items:
        del items[-_SLICE_ITEMS:]


def _answer(summary: IngestSummary, shown: int) -> dict[str, Any]:
    rejections: list[dict[str, Any]] = []
    for result in summary.results or []:
        if result.status == "rejected":
            if len(rejections) >= shown:
                break
            rejections.append(result.to_dict())
            del rejections[-1]["status"]
    return {
        "run_id": summary.run_id,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "rejected": summary.quarantined,
        "rejections": rejections,
    }


async def _in_thread(request: Request, work: Any) -> Any:
    """Work that writes to the store, in a worker thread: one writer at a time keeps SQLite
    from lock contention."""
    lock = request.app.state.write_lock

    def locked() -> Any:
        with lock:
            return work()

    return await run_in_threadpool(locked)
