"""`abusedesk model` and `abusedesk campaigns` as a user meets them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from abusedesk.cli.main import app
from abusedesk.storage.models import BulkItem, BulkJob
from abusedesk.workspace import Workspace

runner = CliRunner()


def write_tsv(path: Path) -> Path:
    spam = ["WINNER! You have won a £{n}00 prize. Call 0906{n}123456 to claim now",
            "Free entry to win a new phone! Txt WIN to 8{n}121 now, T&C apply"]  # fmt: skip
    ham = ["Are we still meeting for lunch at {n} tomorrow?",
           "I'll be late tonight, the train is delayed by {n} minutes"]  # fmt: skip
    lines = ["label\ttext", "maybe\tan unknown label"]
    for n in range(1, 16):
        lines += [f"spam\t{t.format(n=n)}" for t in spam] + [f"ham\t{t.format(n=n)}" for t in ham]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.usefixtures("cli_env")
def test_train_list_promote_and_eval(tmp_path: Path) -> None:
    data = write_tsv(tmp_path / "sms.tsv")
    result = runner.invoke(
        app,
        [
            "model",
            "train",
            "--channel",
            "sms",
            "--data",
            str(data),
            "--name",
            "mine",
            "--folds",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "saved sms model mine/v1: F1" in result.output
    assert "skipped" in result.output  # the bad label line is named
    listed = runner.invoke(app, ["model", "list"])
    assert listed.exit_code == 0, listed.output
    assert "* sms" in listed.output
    assert "mine/v1" in listed.output
    promoted = runner.invoke(app, ["model", "promote", "--channel", "sms", "mine/v1"])
    assert promoted.exit_code == 0, promoted.output
    assert "now scored by mine/v1" in promoted.output
    plot = tmp_path / "pr.png"
    evaluated = runner.invoke(
        app,
        [
            "model",
            "eval",
            "--channel",
            "sms",
            "--data",
            str(data),
            "--model",
            "mine",
            "--plot",
            str(plot),
            "--json",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    figures = orjson.loads(evaluated.stdout)
    assert figures["scored_by"] == "model mine/v1"
    assert figures["operating_point"]["f1"] > 0.9
    assert plot.read_bytes().startswith(b"\x89PNG")
    cv = runner.invoke(
        app, ["model", "eval", "--channel", "sms", "--data", str(data), "--folds", "3"]
    )
    assert cv.exit_code == 0, cv.output
    assert "3-fold cross-validation" in cv.output


@pytest.mark.usefixtures("cli_env")
def test_model_errors_are_one_line(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["model", "promote", "--channel", "sms", "nothing"])
    assert bad.exit_code == 1
    assert "no sms model 'nothing'" in bad.output
    channel = runner.invoke(
        app, ["model", "train", "--channel", "fax", "--data", "x.tsv", "--name", "m"]
    )
    assert channel.exit_code == 1
    assert "--channel must be one of sms, email" in channel.output


@pytest.mark.usefixtures("cli_env")
def test_campaigns_list_and_show_from_the_lake(tmp_path: Path, workspace: Workspace) -> None:
    from abusedesk.sim.generator import generate

    generate(tmp_path / "sim", days=1, seed=3, scale=0.2)
    ingest = runner.invoke(app, ["ingest", str(tmp_path / "sim" / "events.jsonl"), "--no-detect"])
    assert ingest.exit_code == 0, ingest.output
    labels = orjson.loads((tmp_path / "sim" / "labels.json").read_bytes())
    listed = runner.invoke(app, ["campaigns", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    campaigns = [orjson.loads(line) for line in listed.stdout.splitlines()]
    kinds = [{labels[a] for a in c["accounts"]} for c in campaigns]
    assert {"snowshoe"} in kinds  # every snowshoe account in one campaign, nothing else
    snowshoe = next(c for c in campaigns if {labels[a] for a in c["accounts"]} == {"snowshoe"})
    assert len(snowshoe["accounts"]) == sum(v == "snowshoe" for v in labels.values())
    shown = runner.invoke(app, ["campaigns", "show", snowshoe["campaign"]])
    assert shown.exit_code == 0, shown.output
    assert snowshoe["campaign"] in shown.output
    assert "samples" in shown.output
    # Bulk on the campaign: its accounts, and the job records the campaign and its window.
    plan = ["bulk", "plan", "--policy", "spam", "--reason", "snowshoe", "--kind", "warn",
            "--override-reason", "first contact"]  # fmt: skip
    planned = runner.invoke(app, [*plan, "--campaign", snowshoe["campaign"]])
    assert planned.exit_code == 0, planned.output
    assert f"planned: {len(snowshoe['accounts'])} account(s)" in planned.output
    with workspace.store.sessions() as session:
        job = session.execute(select(BulkJob)).scalar_one()
        items = session.execute(select(BulkItem.account_id)).scalars().all()
    assert sorted(items) == snowshoe["accounts"]
    assert job.selector["campaign"] == snowshoe["campaign"]
    assert job.selector["since"] is not None
    assert job.selector["capped"] is False
    unknown = runner.invoke(app, [*plan, "--campaign", "c-0000000000"])
    assert unknown.exit_code != 0
    assert "no campaign c-0000000000" in unknown.output
    assert len(unknown.output.strip().splitlines()) == 1
