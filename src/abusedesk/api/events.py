"""POST /v1/events: ingest over HTTP with the same validation and quarantine as files."""

from __future__ import annotations

from typing import Annotated, Any

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
        ingestor = ws.ingestor(consumers=consumers, actor=principal.name, origin="api")
        # One writer at a time keeps SQLite from lock contention.
        with lock:
            if objects is None:
                summary = ingestor.ingest_bytes(data, source="http")
            else:
                summary = ingestor.ingest_objects(objects, source="http")
        return _answer(summary, ws.settings.api_max_rejections_shown)

    return JSONBody(await run_in_threadpool(work))


def _parse(data: bytes, limit: int) -> list[Any] | None:
    """The items of a JSON array body, or None for NDJSON (ingest reads it line by line);
    [] when the body holds no event. Refuses a body over `limit` items."""
    stripped = data.lstrip()
    objects: list[Any] | None = None
    if stripped.startswith(b"["):
        try:
            items = jsontext.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"body is not a valid JSON array: {exc}") from None
        objects = list(items)
        count = len(objects)
    else:
        # Blank lines are no events (ingest skips them), so they do not count either.
        count = sum(1 for line in data.splitlines() if line.strip())
    if count > limit:
        raise LimitError(f"request carries {count} events, over {limit} (ABUSEDESK_API_MAX_EVENTS)")
    return [] if count == 0 else objects


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
