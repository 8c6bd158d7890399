"""docs/cli.md, generated from the commands themselves (`python -m abusedesk.cli.reference`).

A test compares the file with this output, so a new command or option cannot go undocumented.
"""

from __future__ import annotations

import sys
from typing import Any

import typer.main

from abusedesk.cli.main import app


# typer ships its own copy of click, so commands are duck-typed here rather than checked
# against click's classes.
def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    if isinstance(getattr(command, "commands", None), dict):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def render() -> str:
    root = typer.main.get_command(app)
    parts = [
        "# Command reference",
        "",
        "Generated from the commands' own help by `python -m abusedesk.cli.reference`; do not",
        "edit by hand (a test compares).",
        "",
    ]
    for path, command in _walk(root, ["abusedesk"]):
        if command.hidden:
            continue
        name = " ".join(path)
        with command.context_class(command, info_name=name, terminal_width=100) as ctx:
            usage = command.get_usage(ctx).strip()
            params = []
            for param in command.get_params(ctx):
                record = param.get_help_record(ctx)
                if record is not None:
                    params.append(f"- `{record[0]}`: {record[1]}")
        parts += [f"## `{name}`", "", command.help.strip() if command.help else "", ""]
        parts += ["```", usage, "```", ""]
        if params:
            parts += [*params, ""]
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation generator
    sys.stdout.write(render())
