"""POST /v1/events: ingest over HTTP with the same validation and quarantine as files."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request

from abusedesk.api.auth import require
from abusedesk.api.responses import JSONBody
from abusedesk.auth.tokens import Principal
from abusedesk.errors import FormatError, LimitError
from abusedesk.events import jsontext
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


@router.post(
    "/v1/events",
    summary="Ingest events",
    description=(
        "Body: a JSON array of canonical events, or NDJSON (one event per line). Each line or "
        "item gets a result: accepted, duplicate (its id was taken in before) or rejected (with "
        "the reason; it is also quarantined). Good items go in even when others are rejected. "
        "At most ABUSEDESK_API_MAX_EVENTS items a request (413 beyond); a body with no item "
        "writes nothing and opens no ingest run (run_id null)."
    ),
)
async def post_events(
    request: Request,
    principal: Annotated[Principal, Depends(require("events:write"))],
) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    data = await read_body(request, ws.settings.api_max_body_bytes, "ABUSEDESK_API_MAX_BODY_BYTES")
    stripped = data.lstrip()
    limit = ws.settings.api_max_events
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
    if count == 0:
        # Nothing to take in: no run, no audit row, no write.
        return JSONBody(
            {"run_id": None, "accepted": 0, "duplicates": 0, "rejected": 0, "results": []}
        )
    ingestor = ws.ingestor(
        consumers=request.app.state.consumers, actor=principal.name, origin="api"
    )
    if objects is not None:
        batch = objects
        summary = await _in_thread(request, lambda: ingestor.ingest_objects(batch, source="http"))
    else:
        summary = await _in_thread(request, lambda: ingestor.ingest_bytes(data, source="http"))
    results = summary.results or []
    return JSONBody(
        {
            "run_id": summary.run_id,
            "accepted": summary.accepted,
            "duplicates": summary.duplicates,
            "rejected": summary.quarantined,
            "results": [r.to_dict() for r in results],
        }
    )


async def _in_thread(request: Request, work: Any) -> Any:
    """Ingest writes to the store; one writer at a time keeps SQLite from lock contention."""
    from starlette.concurrency import run_in_threadpool

    lock = request.app.state.write_lock

    def locked() -> Any:
        with lock:
            return work()

    return await run_in_threadpool(locked)
