"""Decision API latency: POST /v1/decisions at a fixed rate from a separate process.

Starts `abusedesk serve` (one uvicorn process, fresh workspace) pinned to core 1, then this
process, pinned to core 0, sends simulator events open-loop at --rate per second over loopback
keep-alive connections. Latency is measured from each request's scheduled start, so queueing
delay counts (no coordinated omission). Also measures in-process evaluation of the same events.
Prints one JSON line.

    python bench/decisions.py [--rate 1000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def one_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> int:
    writer.write(payload)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def drive(
    port: int, token: str, bodies: list[bytes], rate: float, conns: int, *, warmup: int = 0
) -> dict:
    """Send `bodies` open-loop at `rate`; the first `warmup` are sent the same way but not
    measured (a server's first requests pay for cold caches and lazy imports)."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    finished = [0.0]
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def fire(i: int, body: bytes) -> None:
        nonlocal errors
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        reader, writer = await pool.get()
        payload = (
            b"POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer "
            + token.encode()
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        try:
            status = await one_request(reader, writer, payload)
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        now = loop.time()
        if i >= warmup:
            latencies.append(now - scheduled)
            finished[0] = max(finished[0], now)
        pool.put_nowait((reader, writer))

    await asyncio.gather(*(fire(i, body) for i, body in enumerate(bodies)))
    latencies.sort()
    n = len(latencies)
    measured_start = start + warmup / rate
    return {
        "requests": n,
        "warmup_requests": warmup,
        "errors": errors,
        "achieved_rate": round(n / (finished[0] - measured_start), 1),
        "p50_ms": round(latencies[n // 2] * 1000, 2),
        "p90_ms": round(latencies[int(n * 0.90)] * 1000, 2),
        "p99_ms": round(latencies[int(n * 0.99)] * 1000, 2),
        "p999_ms": round(latencies[int(n * 0.999)] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


def in_process(events: list) -> dict:
    from abusedesk.detection.engine import DetectionEngine

    engine = DetectionEngine.load()
    timings = []
    for event in events:
        t0 = time.perf_counter_ns()
        engine.evaluate(event)
        timings.append(time.perf_counter_ns() - t0)
    timings.sort()
    return {
        "p50_ms": round(timings[len(timings) // 2] / 1e6, 4),
        "p99_ms": round(timings[int(len(timings) * 0.99)] / 1e6, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    args = parser.parse_args()
    from sim_events import sim_events

    warmup = int(args.rate * args.warmup_seconds)
    count = int(args.rate * args.seconds) + warmup
    events = []
    for event in sim_events(3, 1.0):
        events.append(event)
        if len(events) >= count:
            break
    bodies = [orjson.dumps(e.to_json_dict()) for e in events]

    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ABUSEDESK_HOME=home)
        env.pop("ABUSEDESK_DATABASE_URL", None)
        token = subprocess.run(
            [sys.executable, "-m", "abusedesk.cli.main", "tokens", "create", "--name", "bench"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        port = free_port()
        server = subprocess.Popen(
            [
                "taskset",
                "-c",
                "1",
                sys.executable,
                "-m",
                "abusedesk.cli.main",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.time() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.time() > deadline or server.poll() is not None:
                        raise SystemExit("server did not start") from None
                    time.sleep(0.2)
            os.sched_setaffinity(0, {0})
            http = asyncio.run(
                drive(port, token, bodies, args.rate, args.connections, warmup=warmup)
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    local = in_process(events[warmup:])
    print(
        json.dumps(
            {
                "bench": "decisions",
                "target_rate": args.rate,
                "seconds": args.seconds,
                **http,
                "in_process_p50_ms": local["p50_ms"],
                "in_process_p99_ms": local["p99_ms"],
                "client_peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
