"""`abusedesk demo`: simulated traffic -> ingest with detection -> cases -> the API, in a minute.

The demo works in its own fresh workspace, `<ABUSEDESK_HOME>/demo`, on the embedded defaults
(SQLite, in-process state), whatever the user's settings point at, so it never touches real data.
"""

from __future__ import annotations

import shutil
import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from abusedesk.auth.tokens import do_create_token
from abusedesk.cases.services import list_cases
from abusedesk.cli.context import workspace
from abusedesk.cli.detect import print_detection
from abusedesk.cli.evaluate import evaluate_store
from abusedesk.cli.ingest import print_summary
from abusedesk.cli.output import err, handles_errors, out
from abusedesk.detection.engine import DetectionEngine
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.notices.dry_run import dry_run
from abusedesk.settings import Settings
from abusedesk.sim.evaluate import render_text
from abusedesk.sim.fbl import COMPLAINTS_FILE
from abusedesk.sim.generator import EVENTS_FILE, generate
from abusedesk.workspace import Workspace

# The score above is not evidence about real traffic, and must not be read as such.
SCORE_CAVEAT = (
    "[yellow]note:[/] the simulator and the default playbook were written together, by the "
    "same people, so this score measures how well the two agree, not how detection does on "
    "real traffic."
)


@handles_errors
def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="Stop after ingest and evaluation."),
    seed: int = typer.Option(7, "--seed", help="Simulator seed: the same seed, the same traffic."),
    scale: float = typer.Option(1.0, "--scale", help="Multiply legitimate accounts and volume."),
    days: int = typer.Option(3, "--days", help="Days of traffic to simulate."),
    port: int = typer.Option(8000, "--port", help="Port of the API."),
) -> None:
    """Simulate a messaging platform, detect abuse in it, and serve what was found."""
    started = time.perf_counter()
    with workspace() as base:
        home = base.settings.resolved_home / "demo"
    if home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home, database_url=None, state_url="memory://", api_port=port)
    with Workspace(settings) as ws:
        sim_dir = home / "sim"
        out.print(f"[bold]abusedesk demo[/] in {home}")
        with _progress() as progress:
            task = progress.add_task("simulate", total=days * 24)
            summary = generate(
                sim_dir,
                days=days,
                seed=seed,
                scale=scale,
                progress=lambda hours: progress.update(task, completed=hours),
            )
        out.print(
            f"simulated {days} days: {sum(summary.events_by_type.values()):,} events from "
            f"{summary.accounts:,} accounts ({_labels(summary.accounts_by_label)}); "
            f"{summary.early_complaints} complaints ahead of the message log"
        )
        consumer = ws.detection_consumer()
        ingestor = ws.ingestor(consumers=[consumer], actor="demo", origin="demo")
        # The feedback loop's ARF reports (no account header) come before the message log,
        # as they often do: ingest links each to its account when its message arrives.
        # (An empty mbox is left out: the ARF reader takes an empty file for an empty message.)
        files = [f for f in (sim_dir / COMPLAINTS_FILE, sim_dir / EVENTS_FILE) if f.stat().st_size]
        with _progress() as progress:
            task = progress.add_task("ingest + detect", total=sum(f.stat().st_size for f in files))
            result = ingestor.ingest_paths(files, on_bytes=lambda n: progress.advance(task, n))
        print_summary(result)
        print_detection(ws, consumer.stats)
        report = evaluate_store(ws.store, sim_dir / "labels.json")
        out.print()
        out.print(render_text(report), markup=False)
        out.print(SCORE_CAVEAT)
        _enforce_dry_run(ws)
        out.print(f"\n[bold]ready in {time.perf_counter() - started:.0f} s[/]")
        if no_serve:
            return
        token, _ = do_create_token(ws.store, ws.clock, name="demo", role="admin", actor="demo")
        _serve(ws, token, port, consumer.engine)


def _enforce_dry_run(ws: Workspace, limit: int = 10) -> None:
    """The ladder's proposed action on each P1 case, taken in a dry run, and one notice."""
    p1 = [c for c in list_cases(ws.store, status="open") if c.priority == "P1"]
    requests = [
        ActionRequest(
            account_id=c.account_id,
            actor="demo",
            reason=f"case {c.case_id}: {c.title}",
            policy=c.policy,
            case_id=c.case_id,
        )
        for c in p1[:limit]
    ]
    out.print(
        f"\n[bold]enforcement (dry run)[/]: the ladder's step on {len(requests)} of "
        f"{len(p1)} P1 cases; nothing is stored or sent"
    )
    results = dry_run(ws.enforcement(), ws.notice_renderer(), requests)
    for r in results:
        if r.action is None:
            out.print(f"  case {r.request.case_id} {r.request.account_id}: refused: {r.error}")
            continue
        a = r.action
        if not r.created:
            out.print(
                f"  case {r.request.case_id} {a['account_id']} ({r.request.policy}): nothing "
                f"more: its {a['kind']} {a['scope']} ({a['policy']}, above) already applies"
            )
            continue
        until = f" until {a['expires_at']}" if a["expires_at"] else ""
        out.print(
            f"  case {r.request.case_id} {a['account_id']} ({a['policy']}): would "
            f"{a['kind']} {a['scope']}{until}; webhook to the platform"
        )
    first = next((r for r in results if r.notice is not None), None)
    if first is not None and first.notice is not None:
        out.print(f"\n[bold]notice to {first.request.account_id}[/] (preview)")
        out.print(f"Subject: {first.notice.subject}\n", markup=False)
        out.print(first.notice.text, markup=False)
        if first.notice.missing:
            out.print(
                "an analyst fills these before it can be sent: "
                + ", ".join(first.notice.missing)
                + " (abusedesk notices send N --set name=value)",
                markup=False,
            )


def _labels(by_label: dict[str, int]) -> str:
    legit = by_label.get("legit", 0)
    abusive = sum(n for label, n in by_label.items() if label != "legit")
    return f"{legit} legitimate, {abusive} abusive"


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )


def _serve(ws: Workspace, token: str, port: int, engine: DetectionEngine) -> None:
    """Serve the API with the engine ingest just used: decisions see the state it built."""
    import uvicorn

    from abusedesk.api.app import create_app

    base = f"http://127.0.0.1:{port}"
    out.print(
        f"\n[bold]open[/] {base}/docs  (the API; authorize with the token below)\n"
        f"token (admin): {token}\n"
        f"try:  curl -s -H 'Authorization: Bearer {token}' {base}/v1/health\n"
        f"      abusedesk cases list   (with ABUSEDESK_HOME={ws.settings.resolved_home})\n"
        "stop with Ctrl-C"
    )
    uvicorn.run(create_app(ws, engine=engine), host="127.0.0.1", port=port, log_level="warning")
