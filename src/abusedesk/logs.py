"""Logging: one JSON line on stderr per event of interest, at ABUSEDESK_LOG_LEVEL.

Library code logs through `logging.getLogger("abusedesk.<module>")` with a short event name as
the message and its facts in `extra={"fields": {...}}`:

    log.info("ingest.done", extra=fields(run_id=7, accepted=1000))
    -> {"ts": "2026-03-01T12:00:00.000Z", "level": "INFO", "logger": "abusedesk.pipeline.ingest",
        "event": "ingest.done", "run_id": 7, "accepted": 1000}

Fields are ids, counts and names, never event content, tokens or connection strings: a log
line may be shipped to places the data may not go. `configure` is called by the CLI and the API
when they build their workspace; it installs one handler on the "abusedesk" logger (calling it
again replaces it) and sets its level; other libraries' logging is left as it is.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

import orjson

_HANDLER_NAME: Final = "abusedesk-json"


def fields(**values: Any) -> dict[str, Any]:
    """The `extra` of a log call: `log.warning("x.failed", extra=fields(id=...))`."""
    return {"fields": values}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                line.setdefault(str(key), value)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line["error"] = f"{type(exc).__name__}: {exc}"
        return orjson.dumps(line, default=str).decode()


class _Lines(logging.Handler):
    """Writes each record as one line to `stream`, or to whatever sys.stderr is at that moment
    (a handler holding the stderr of its creation would write to a closed stream once a test
    runner or a daemon swaps it)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self._stream if self._stream is not None else sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # logging must never break the caller; logging reports it
            self.handleError(record)


def configure(level: str, stream: TextIO | None = None) -> logging.Logger:
    """Send the "abusedesk" loggers' records at `level` and above to `stream` (stderr)."""
    logger = logging.getLogger("abusedesk")
    for old in list(logger.handlers):
        if old.get_name() == _HANDLER_NAME:
            logger.removeHandler(old)
    handler = _Lines(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonLines())
    logger.addHandler(handler)
    logger.setLevel(level)
    return logger
