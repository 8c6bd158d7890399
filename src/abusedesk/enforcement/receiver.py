"""A reference webhook receiver: what the platform side does with our webhooks.

It checks the signature and the timestamp (signing.verify), drops repeats by delivery id, and
answers 2xx only after it has recorded the delivery. The tests and bench/bulk.py run it as a
real HTTP server; `failures` lets them make it fail (or ask to slow down) and then recover.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from abusedesk.enforcement.signing import (
    HEADER_DELIVERY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    verify,
)

# (delivery id, how many times it was received so far including this one) -> (status, headers)
# to answer instead of accepting, or None to accept.
FailurePlan = Callable[[str, int], tuple[int, dict[str, str]] | None]


class WebhookReceiver:
    def __init__(
        self,
        secret: str,
        *,
        now: Callable[[], float] = time.time,
        failures: FailurePlan | None = None,
    ) -> None:
        self.secret = secret
        self.now = now
        self.failures = failures
        self.received: Counter[str] = Counter()  # every request, repeats included
        self.accepted: dict[str, dict[str, Any]] = {}  # first accepted payload per delivery
        self.duplicates = 0  # accepted again after an earlier acceptance (dropped)
        self.rejected = 0  # bad signature or timestamp
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks/abusedesk"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        delivery = headers.get(HEADER_DELIVERY.lower(), "")
        ok = verify(
            self.secret,
            headers.get(HEADER_TIMESTAMP.lower(), ""),
            body,
            headers.get(HEADER_SIGNATURE.lower(), ""),
            now=int(self.now()),
        )
        with self._lock:
            if not ok or not delivery:
                self.rejected += 1
                return 401, {}
            self.received[delivery] += 1
            nth = self.received[delivery]
        if self.failures is not None:
            planned = self.failures(delivery, nth)
            if planned is not None:
                return planned
        with self._lock:
            if delivery in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[delivery] = orjson.loads(body)
        return 200, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a production receiver would

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra = receiver.handle(headers, body)
                payload = b'{"ok":true}' if status < 300 else b'{"ok":false}'
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                # The figures, for a receiver running in another process (bench/bulk.py).
                with receiver._lock:
                    stats = {
                        "received": sum(receiver.received.values()),
                        "received_more_than_once": sum(
                            1 for n in receiver.received.values() if n > 1
                        ),
                        "accepted": len(receiver.accepted),
                        "duplicates": receiver.duplicates,
                        "rejected": receiver.rejected,
                    }
                payload = orjson.dumps(stats)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                pass  # quiet: the tests and the bench count, they do not read logs

        return Handler
