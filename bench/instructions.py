"""Detection work per event in CPU instructions: a figure the host's load does not move.

Wall-clock figures on a shared VM drift by 10-15 % within minutes, which is more than many
changes are worth. valgrind's callgrind counts the instructions a process executes; they are
the same from run to run for the same code and input. This program runs the detection engine
(as bench/engine.py does) over the first A and the first B events of the simulator's traffic
under callgrind and prints one JSON line with (instructions(B) - instructions(A)) / (B - A):
the cost of an event, with start-up, imports and decoding cancelled out (both runs decode B
events). It takes a few minutes; the string-hash seed is fixed (PYTHONHASHSEED, 0 unless set).

    python bench/instructions.py [--events 20000,60000] [--pack DIR]

`--pack` measures another rule pack than the default playbook (e.g. one with the content rules).

Needs valgrind (Debian package `valgrind`). Compare two versions of the code by running it in
each checkout; the figure is instructions, not time (one instruction is not one cycle).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

_COLLECTED = re.compile(r"Collected : (\d+)")


def one(count: int, loaded: int, pack: Path | None) -> None:
    """The measured process: load the first `loaded` events, then evaluate the first `count`
    (both runs load as many, so decoding cancels out with start-up)."""
    from abusedesk.detection.engine import DetectionEngine
    from abusedesk.enrich import default_enricher
    from sim_events import sim_events

    events = []
    for event in sim_events(3, 1.0):
        events.append(event)
        if len(events) >= loaded:
            break
    del events[count:]
    engine = DetectionEngine.load(pack)
    default_enricher()
    gc.collect()
    gc.freeze()
    gc.disable()
    for event in events:
        engine.evaluate(event)


def instructions(count: int, loaded: int, pack: Path | None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--one",
            str(count),
            "--loaded",
            str(loaded),
            *(["--pack", str(pack)] if pack is not None else []),
        ]
        # A fixed string-hash seed: set and dict orders (and with them some paths) are then
        # the same from run to run.
        env = {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
        result = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    found = _COLLECTED.search(result.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no instruction count:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", default="20000,60000", help="two event counts, A,B")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--loaded", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pack", type=Path, help="a rule pack folder (default: the playbook)")
    args = parser.parse_args()
    if args.one is not None:
        one(args.one, args.loaded or args.one, args.pack)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    first, second = (int(n) for n in args.events.split(","))
    if not 0 < first < second:
        raise SystemExit("--events takes two counts A,B with 0 < A < B")
    # The simulator's file is written once and cached (sim_events.py), outside the count.
    from sim_events import sim_file

    sim_file(3, 1.0)
    low = instructions(first, second, args.pack)
    high = instructions(second, second, args.pack)
    print(
        json.dumps(
            {
                "bench": "instructions",
                "what": "detection engine, per event",
                "pack": str(args.pack) if args.pack is not None else "playbook",
                "events": [first, second],
                "instructions_per_event": round((high - low) / (second - first)),
            }
        )
    )


if __name__ == "__main__":
    main()
