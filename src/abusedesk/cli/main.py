"""The `abusedesk` command. Each sub-command is a thin layer over a service."""

from __future__ import annotations

import typer

from abusedesk import __version__
from abusedesk.cli import actions as actions_cmd
from abusedesk.cli import appeals as appeals_cmd
from abusedesk.cli import backtest as backtest_cmd
from abusedesk.cli import bulk as bulk_cmd
from abusedesk.cli import campaigns as campaigns_cmd
from abusedesk.cli import cases as cases_cmd
from abusedesk.cli import db as db_cmd
from abusedesk.cli import demo as demo_cmd
from abusedesk.cli import detect as detect_cmd
from abusedesk.cli import evaluate as eval_cmd
from abusedesk.cli import ingest as ingest_cmd
from abusedesk.cli import investigate as investigate_cmd
from abusedesk.cli import lake as lake_cmd
from abusedesk.cli import model as model_cmd
from abusedesk.cli import notices as notices_cmd
from abusedesk.cli import outbox as outbox_cmd
from abusedesk.cli import policies as policies_cmd
from abusedesk.cli import probation as probation_cmd
from abusedesk.cli import queues as queues_cmd
from abusedesk.cli import rules as rules_cmd
from abusedesk.cli import serve as serve_cmd
from abusedesk.cli import tokens as tokens_cmd
from abusedesk.cli import users as users_cmd
from abusedesk.sim import cli as sim_cmd

app = typer.Typer(
    name="abusedesk",
    help="Trust & Safety operations for messaging platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest_cmd.ingest)
app.command("demo")(demo_cmd.demo)
app.command("detect")(detect_cmd.detect)
app.command("sql")(lake_cmd.sql)
app.command("serve")(serve_cmd.serve)
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(queues_cmd.app, name="queues")
app.add_typer(eval_cmd.app, name="eval")
rules_cmd.app.command("backtest")(backtest_cmd.backtest)
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(sim_cmd.app, name="sim")
app.add_typer(investigate_cmd.accounts_app, name="accounts")
app.add_typer(investigate_cmd.entities_app, name="entities")
app.add_typer(users_cmd.app, name="users")
app.add_typer(tokens_cmd.app, name="tokens")
app.add_typer(db_cmd.app, name="db")
app.add_typer(lake_cmd.app, name="lake")
app.add_typer(policies_cmd.app, name="policies")
app.add_typer(actions_cmd.app, name="actions")
app.add_typer(outbox_cmd.app, name="outbox")
app.add_typer(bulk_cmd.app, name="bulk")
app.add_typer(notices_cmd.app, name="notices")
app.add_typer(appeals_cmd.app, name="appeals")
app.add_typer(probation_cmd.app, name="probation")
app.add_typer(model_cmd.app, name="model")
app.add_typer(campaigns_cmd.app, name="campaigns")


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def run() -> None:
    app()


if __name__ == "__main__":
    run()
