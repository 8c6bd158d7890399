"""Decision API capacity and latency: POST /v1/decisions from a separate process, open loop.

Starts `abusedesk serve` (one uvicorn process, fresh workspace) pinned to core 1; this process,
pinned to core 0, sends simulator events open-loop over loopback keep-alive connections.
Latency is measured from each request's scheduled start, so queueing delay counts (no
coordinated omission). Two measurements against the same server:

1. a fixed rate (--rate, default 1,000/s) for --seconds: p50/p99 there;
2. a search for the highest rate this one process sustains with p99 under --p99-ms (10 ms):
   rates double from --search-from until a step fails (p99 over the bound, errors, or under
   95 % of the rate achieved), then bisect between the last rate that held and the first that
   did not, to within 5 %. Bounded: at most --max-steps steps of --step-seconds each, rates
   up to --max-rate, and --search-budget-s seconds in all.

Also reported: the server's CPU time per decision (from /proc, over the fixed-rate run), the
figure least moved by other load on a shared machine, and in-process evaluation of the same
events. `--state-url redis://127.0.0.1:6379/N` puts feature state in Redis (keys under `adk`
in database N, deleted at the end: give it a database of its own). Prints one JSON line.

    python bench/decisions.py [--rate 1000] [--seconds 20] [--no-search]
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[int, str, subprocess.Popen[bytes]]]:
    """`abusedesk serve` on a free port, pinned to core 1, with a fresh token; yields (port,
    token, process) once it accepts connections, and stops it after."""
    token = subprocess.run(
        [sys.executable, "-m", "abusedesk.cli.main", "tokens", "create", "--name", "bench"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    port = free_port()
    serve = [sys.executable, "-m", "abusedesk.cli.main", "serve", "--port", str(port)]
    server = subprocess.Popen(
        ["taskset", "-c", "1", *serve],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 180  # a loaded shared machine can take a minute
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    _, err = server.communicate()
                    raise SystemExit(f"server did not start: {err.decode()[-2000:]}") from None
                time.sleep(0.2)
        yield port, token, server
    finally:
        server.terminate()
        server.wait(timeout=30)


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


def request_bytes(token: str, body: bytes) -> bytes:
    return (
        b"POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer "
        + token.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def drive(
    port: int, token: str, bodies: list[bytes], rate: float, conns: int, *, warmup: int = 0
) -> dict:
    """Send `bodies` open-loop at `rate`; the first `warmup` are sent the same way but not
    measured (a server's first requests pay for cold caches and lazy imports)."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    opened = []
    for _ in range(conns):
        conn = await asyncio.open_connection("127.0.0.1", port)
        opened.append(conn[1])
        pool.put_nowait(conn)
    payloads = [request_bytes(token, body) for body in bodies]
    latencies: list[float] = []
    finished = [0.0]
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def fire(i: int, payload: bytes) -> None:
        nonlocal errors
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        reader, writer = await pool.get()
        try:
            status = await one_request(reader, writer, payload)
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            opened.append(writer)
        now = loop.time()
        if i >= warmup:
            latencies.append(now - scheduled)
            finished[0] = max(finished[0], now)
        pool.put_nowait((reader, writer))

    await asyncio.gather(*(fire(i, payload) for i, payload in enumerate(payloads)))
    for writer in opened:
        writer.close()
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bodies:
    """Request bodies from the simulator's stream, continuing where the last batch ended (so
    event time moves forward across steps), starting over if it runs out."""

    def __init__(self) -> None:
        self._events = self._cycle()

    @staticmethod
    def _cycle() -> Iterator[bytes]:
        from sim_events import sim_events

        while True:
            for event in sim_events(3, 1.0):
                yield orjson.dumps(event.to_json_dict())

    def take(self, n: int) -> list[bytes]:
        return [next(self._events) for _ in range(n)]


def holds(result: dict, rate: float, p99_ms: float) -> bool:
    return (
        result["errors"] == 0
        and result["p99_ms"] < p99_ms
        and result["achieved_rate"] >= 0.95 * rate
    )


def search(
    port: int, token: str, bodies: Bodies, args: argparse.Namespace
) -> tuple[float, list[dict]]:
    """The highest rate that held (0 if none did), and every step tried."""
    steps: list[dict] = []
    deadline = time.monotonic() + args.search_budget_s
    good, bad = 0.0, float("inf")
    rate = args.search_from
    while len(steps) < args.max_steps and time.monotonic() < deadline:
        warmup = int(rate * 0.5)
        batch = bodies.take(int(rate * args.step_seconds) + warmup)
        result = asyncio.run(drive(port, token, batch, rate, args.connections, warmup=warmup))
        ok = holds(result, rate, args.p99_ms)
        steps.append(
            {
                "rate": round(rate),
                "p99_ms": result["p99_ms"],
                "achieved": result["achieved_rate"],
                "errors": result["errors"],
                "held": ok,
            }
        )
        if ok:
            good = rate
        else:
            bad = rate
        if bad == float("inf"):
            if rate >= args.max_rate:
                break
            rate = min(rate * 2, args.max_rate)
        else:
            if bad - good <= 0.05 * bad:
                break
            rate = (good + bad) / 2 if good else bad / 2
        time.sleep(1.0)  # let the server drain what the last step left queued
    return good, steps


def in_process(bodies: list[bytes]) -> dict:
    """Evaluation alone, in this process with in-memory state, over the same events."""
    from abusedesk.detection.engine import DetectionEngine
    from abusedesk.events.schema import validate_event

    engine = DetectionEngine.load()
    timings = []
    for event in [validate_event(orjson.loads(body)) for body in bodies]:
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
    parser.add_argument("--no-search", action="store_true", help="only the fixed rate")
    parser.add_argument("--p99-ms", type=float, default=10.0)
    parser.add_argument("--search-from", type=float, default=1000)
    parser.add_argument("--max-rate", type=float, default=16000)
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument("--max-steps", type=int, default=10)
    parser.add_argument("--search-budget-s", type=float, default=150)
    parser.add_argument("--state-url", default=None, help="e.g. redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    bodies = Bodies()
    warmup = int(args.rate * args.warmup_seconds)
    fixed = bodies.take(int(args.rate * args.seconds) + warmup)

    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ABUSEDESK_HOME=home)
        env.pop("ABUSEDESK_DATABASE_URL", None)
        if args.state_url:
            env["ABUSEDESK_STATE_URL"] = args.state_url
        try:
            with serving(env) as (port, token, server):
                os.sched_setaffinity(0, {0})
                cpu_before = cpu_seconds(server.pid)
                http = asyncio.run(
                    drive(port, token, fixed, args.rate, args.connections, warmup=warmup)
                )
                cpu_used = cpu_seconds(server.pid) - cpu_before
                found: dict = {}
                if not args.no_search:
                    time.sleep(1.0)
                    best, steps = search(port, token, bodies, args)
                    found = {"max_rate_p99_under_ms": args.p99_ms, "max_rate": round(best)}
                    found["search_steps"] = steps
        finally:
            if args.state_url:
                from redis import Redis

                client = Redis.from_url(args.state_url)
                keys = list(client.scan_iter("adk:*", count=1000))
                for i in range(0, len(keys), 1000):
                    client.delete(*keys[i : i + 1000])
                client.close()
    local = in_process(fixed[warmup:])
    print(
        json.dumps(
            {
                "bench": "decisions",
                "state": args.state_url or "memory://",
                "target_rate": args.rate,
                "seconds": args.seconds,
                **http,
                "server_cpu_us_per_decision": round(cpu_used * 1e6 / (len(fixed)), 1),
                **found,
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
