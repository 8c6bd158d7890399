"""Shared CLI output: one red line for errors, tables/CSV/JSON for results."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from abusedesk.errors import AbusedeskError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def escape(text: str) -> str:
    return text.replace("[", "\\[")


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the project's errors into one readable red line and exit status 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AbusedeskError as exc:
            raise fail(exc.message) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    if fmt == "json":
        for row in rows:
            sys.stdout.write(
                orjson.dumps(dict(zip(columns, row, strict=True)), default=str).decode() + "\n"
            )
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*(escape(_cell(v)) for v in row))
        # On a terminal the table fits the screen; piped into a file or another program it keeps
        # its natural width rather than being cut to rich's default of 80 columns.
        out.print(table, width=None if out.is_terminal else 1_000)
