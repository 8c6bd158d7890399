"""Diagnostics: what the rule-pack pipeline says about a pack, and how it is shown.

Every stage (load, validate, lint) appends `Diagnostic`s instead of raising, so one run reports
every problem in the pack. `render` turns them into the plain text a person reads; the CLI may
colour it, but the string itself is stable (golden files compare it byte for byte).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from abusedesk.detection.rules.source import split_lines
from abusedesk.detection.spec import Span

DiagnosticSeverity = Literal["error", "warning"]

# Every code a diagnostic may carry: stable, so tools can branch on them; docs/rules.md lists them
# (a test checks both ways). Warnings never stop a pack from loading.
CODES: Final[dict[str, str]] = {
    # reading files
    "io-error": "the path does not exist, has no .yaml files, or cannot be read",
    "yaml-syntax": "the file is not valid YAML",
    # shape of the pack
    "wrong-type": "a value has the wrong type (text, list, mapping, ...)",
    "unknown-key": "a key the format does not have (with did-you-mean)",
    "missing-key": "a required key is missing or empty",
    "duplicate-key": "a key is given twice in one mapping",
    "duplicate-id": "a rule id or feature name is defined twice in the pack",
    "bad-name": "a feature name or rule id has characters that are not allowed",
    "bad-value": "a value is not one of the allowed choices (severity, verdict, ...)",
    "bad-window": "a window is not like 5m, 1h, 7d, or is outside 1m..30d",
    "unknown-event-type": "an event type that does not exist",
    "bad-feature": "a feature is wired wrongly (two forms, bad `by`, ratio_of mismatch, ...)",
    "name-clash": "a feature has the name of a field, an enrichment or a model score",
    "bad-test": "a rule test's `given` row has an unknown name or a wrong value",
    # expressions
    "syntax": "the expression does not parse",
    "too-long": "the expression is over 10,000 characters",
    "unknown-name": "a name that is not a field, enrichment, feature or model score",
    "not-readable": "a field that expressions cannot read (an object)",
    "feature-in-where": "a feature's filter uses a feature",
    "not-boolean": "a condition (or an operand of AND/OR/NOT) is not true/false",
    "type-mismatch": "operands of different kinds (text compared with a number, ...)",
    "aggregate": "an aggregate function (count, sum, ...) in an expression",
    "subquery": "a subquery or SELECT in an expression",
    "window-function": "a window function (OVER) in an expression",
    "unknown-function": "a function that is not available in rules",
    "bad-arguments": "a function called with the wrong number or kinds of arguments",
    "bad-pattern": "a LIKE or regexp pattern that is not a literal text",
    "bad-regex": "a regular expression that is invalid or that RE2 cannot run",
    "not-allowed": "SQL that is valid but not supported in rules",
    # warnings
    "null-comparison": "a comparison with NULL, which is never true",
    "field-not-on-type": "a feature reads a field its event types do not have",
    "unused-feature": "a feature no rule uses",
    "block-low-severity": "a live rule blocks traffic at severity low",
    "no-tests": "a rule has no tests",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: DiagnosticSeverity
    code: str
    message: str
    span: Span | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:  # a new code must be registered (and documented) first
            raise ValueError(f"unregistered diagnostic code {self.code!r}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        span = self.span
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": span.file if span else None,
            "line": span.line if span else None,
            "col": span.col if span else None,
            "end_col": span.end_col if span else None,
            "hint": self.hint,
        }


def error(code: str, message: str, span: Span | None = None, hint: str | None = None) -> Diagnostic:
    return Diagnostic("error", code, message, span, hint)


def warning(
    code: str, message: str, span: Span | None = None, hint: str | None = None
) -> Diagnostic:
    return Diagnostic("warning", code, message, span, hint)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate, compared case-insensitively, shown as the candidate is spelled."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    by_lower.pop(
        word.lower(), None
    )  # never suggest what was written (e.g. a name in the wrong place)
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return by_lower[matches[0]] if matches else None


def suggestion_hint(word: str, candidates: Iterable[str]) -> str | None:
    match = did_you_mean(word, candidates)
    return f"did you mean `{match}`?" if match else None


def sort_key(diag: Diagnostic) -> tuple[str, int, int, str]:
    span = diag.span
    if span is None:
        return ("", 0, 0, diag.code)
    return (span.file, span.line, span.col, diag.code)


def count(diags: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = warnings = 0
    for diag in diags:
        if diag.is_error:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(diags: Iterable[Diagnostic], n_rules: int) -> str:
    errors, warnings = count(diags)
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(n_rules, 'rule')}"


def render(diags: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    """Every diagnostic as text, in the given order, a blank line between them."""
    return "\n".join(render_one(diag, sources) for diag in diags)


def render_one(diag: Diagnostic, sources: Mapping[str, str]) -> str:
    span = diag.span
    head = f"{diag.severity}[{diag.code}]: {diag.message}"
    lines: list[str] = []
    source_line = _source_line(span, sources) if span else None
    gutter = len(str(span.line)) if span and source_line is not None else 1
    pad = " " * gutter
    if span is None:
        lines.append(head)
    else:
        lines.append(f"{span.file}:{span.line}:{span.col}: {head}")
    if span is not None and source_line is not None:
        # Keep tabs from the source line in the caret line so the carets line up in a terminal.
        lead = "".join("\t" if ch == "\t" else " " for ch in source_line[: span.col - 1])
        width = 1
        if span.end_col is not None and span.end_col > span.col:
            width = span.end_col - span.col
        lines.append(f"{pad} |")
        lines.append(f"{span.line} | {source_line}".rstrip())
        lines.append(f"{pad} | {lead}{'^' * width}")
    if diag.hint:
        lines.append(f"{pad} = hint: {diag.hint}")
    return "\n".join(lines) + "\n"


def _source_line(span: Span, sources: Mapping[str, str]) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    all_lines = _lines(text)
    if not 1 <= span.line <= len(all_lines):
        return None
    return all_lines[span.line - 1]


@functools.lru_cache(maxsize=32)
def _lines(text: str) -> tuple[str, ...]:
    # Rendering looks up one line per diagnostic; split each file once, not once per diagnostic.
    return tuple(split_lines(text))
