"""POST /v1/decisions: the real-time verdict on one event (the hot path).

`DecisionLane` answers it as a plain ASGI handler in front of the FastAPI app (app.py), because
the framework's routing, dependency solving, middleware and response objects cost several
times the decision itself (see docs/api.md). Its one path:

    token     from the cache, in the loop (a miss is looked up in a worker thread)
    event     decoded and checked in one pass by msgspec (events/decode.py), the reference
              validator only for what that declines, so errors read as before
    verdict   in-process state: evaluated in the event loop, pure CPU (tens of microseconds);
              network state (Redis): evaluated off the loop in batches, one round trip per
              batch (offloop.py), so the loop never waits on the network
    signals   matches go to a background writer, so a request never waits on the database

Errors have the API's one JSON shape (errors.py). The FastAPI route below declares the same
operation for the OpenAPI description and answers through the same `Decisions.decide` when a
request reaches the framework (e.g. the app mounted under a prefix).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from abusedesk.api.auth import TokenCache, check, principal_of, require
from abusedesk.api.errors import error_body
from abusedesk.api.events import read_body
from abusedesk.api.offloop import OffLoopEvaluator
from abusedesk.auth import roles
from abusedesk.auth.tokens import Principal
from abusedesk.detection.engine import DetectionEngine
from abusedesk.enforcement.state import RestrictionCache, honour
from abusedesk.errors import AbusedeskError, FormatError, InputError, LimitError
from abusedesk.events.decode import decode_line
from abusedesk.events.schema import Event, EventInvalid, validate_event
from abusedesk.pipeline.signal_writer import SignalWriter
from abusedesk.workspace import Workspace

PATH: Final = "/v1/decisions"
PERMISSION: Final = roles.DECISIONS_WRITE
# One event per request: a fixed bound, not ABUSEDESK_API_MAX_BODY_BYTES (that one is for
# POST /v1/events, which takes many).
MAX_BODY_BYTES: Final = 1_048_576

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("abusedesk.api.decisions")
router = APIRouter()


def read_event(body: bytes) -> Event:
    """The event of a request body: msgspec's one-pass decode, else the reference validator
    (which also says what is wrong)."""
    event = decode_line(body)
    if event is not None:
        return event
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"body is not valid JSON: {exc}") from None
    try:
        return validate_event(raw)
    except EventInvalid as exc:
        raise InputError(str(exc)) from None


class Decisions:
    """The decision operation, independent of how the request arrived."""

    def __init__(
        self,
        ws: Workspace,
        engine: DetectionEngine,
        tokens: TokenCache,
        writer: SignalWriter | None,
        restrictions: RestrictionCache | None = None,
    ) -> None:
        self.ws = ws
        self.engine = engine
        self.tokens = tokens
        self.writer = writer
        self.restrictions = restrictions
        # Network state is evaluated off the event loop; in-process state in it.
        self.offloop = None if engine.state_in_process else OffLoopEvaluator(engine)

    async def answer(self, token: str | None, body: bytes) -> bytes:
        """The JSON verdict on the event in `body`, for the holder of `token`; raises an
        AbusedeskError for anything the caller must hear about."""
        check(await principal_of(self.ws, self.tokens, token), PERMISSION)
        return await self.decide(body)

    async def decide(self, body: bytes) -> bytes:
        """The JSON verdict on the event in `body`, for a caller already checked."""
        event = read_event(body)
        if self.offloop is None:
            verdict = self.engine.evaluate(event)
        else:
            verdict = await self.offloop.evaluate(event)
        if self.writer is not None:
            self.writer.submit(verdict)
        answer = verdict.to_api()
        if self.restrictions is not None:
            # Actions in force win over the rules: one dict lookup in the in-memory index.
            held = self.restrictions.index.check(event.account_id, event.data, self.ws.clock.now())
            answer = honour(answer, held)
        return orjson.dumps(answer, option=orjson.OPT_NON_STR_KEYS)

    def close(self) -> None:
        if self.offloop is not None:
            self.offloop.close()


class DecisionLane:
    """POST /v1/decisions as a plain ASGI handler (see the module docstring)."""

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions

    @staticmethod
    def wants(scope: Scope) -> bool:
        return bool(scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token: str | None = None
        declared = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = _bearer(value.decode("latin-1"))
            elif name == b"content-length" and value.isdigit():
                declared = int(value)
        try:
            if declared > MAX_BODY_BYTES:
                raise _too_large()
            body = await _body(receive)
            payload = await self.decisions.answer(token, body)
            status = 200
        except AbusedeskError as exc:
            status = exc.http_status
            payload = orjson.dumps(error_body(exc.code, exc.message, exc.details))
        except _DisconnectedError:
            return
        except Exception as exc:  # the same answer the app gives for anything unexpected
            log.exception("unhandled error", exc_info=exc)
            status = 500
            payload = orjson.dumps(
                error_body("internal_error", "internal error; the server log has the details")
            )
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class _DisconnectedError(Exception):
    """The client went away before its body arrived."""


def _too_large() -> LimitError:
    # The words of read_body (api/events.py) for a fixed limit: no setting to name.
    return LimitError(f"request body over {MAX_BODY_BYTES} bytes")


async def _body(receive: Receive) -> bytes:
    message = await receive()
    if message["type"] != "http.request":
        raise _DisconnectedError
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _DisconnectedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


@router.post(
    PATH,
    summary="Decide on one event",
    description=(
        "Body: one canonical event. Answers {decision, score, matched, features}: the strictest "
        "verdict of the live rules that matched (allow, review, hold, block), a score in [0, 1], "
        "every matching rule (shadow ones too, marked), and the non-NULL values of the features "
        "the rules for the event's type read, with the content model's `spam_score` and "
        "`campaign_accounts` when a rule reading them could match the event (docs/content.md). "
        "Feature state is updated with the event; signals "
        "and cases for matches are recorded in the background. An action in force on the "
        "account or entity wins: `block` for a suspended, terminated, paused or blocked scope, "
        "`throttle` with `rate_per_min` for a throttle (unless a rule blocks or holds), and "
        "`enforcement` names the action. Needs a token with decisions:write."
    ),
)
async def post_decision(
    request: Request,
    _principal: Annotated[Principal, Depends(require(PERMISSION))],
) -> Response:
    # Reached only when a request passes the lane by (see the module docstring).
    body = await read_body(request, MAX_BODY_BYTES)
    decisions: Decisions = request.app.state.decisions
    return Response(await decisions.decide(body), media_type="application/json")
