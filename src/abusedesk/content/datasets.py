"""Labelled messages from files: TSV, CSV and JSONL with a label column, mbox files and
maildir (or .eml) folders holding one class each.

A path may end in `:LABEL` (`inbox.mbox:ham`); otherwise a file or folder of one class takes
its label from its name (`spam.mbox.gz`, `easy_ham/`). Positive labels: spam, scam, phishing,
fraud, 1, true, yes, violation_confirmed; negative: ham, legit, legitimate, 0, false, no,
no_violation. Gzip files (`.gz`) are read through. A table row with an unknown label or no text
is skipped and counted, with its line number, in `Dataset.skipped` (the good rows are kept).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from abusedesk.errors import FormatError, InputError

POSITIVE: Final = frozenset(
    {"spam", "scam", "phishing", "phish", "fraud", "1", "true", "yes", "violation_confirmed"}
)
NEGATIVE: Final = frozenset(
    {"ham", "legit", "legitimate", "good", "0", "false", "no", "no_violation", "easy_ham"}
)
LABEL_COLUMNS: Final = ("label", "class", "category", "is_spam", "y", "verdict")
TEXT_COLUMNS: Final = ("text", "body", "message", "sms", "content")
RAW_COLUMNS: Final = ("raw", "eml", "mime")
_MBOX_ESCAPE: Final = re.compile(rb"^>(>*From )", re.MULTILINE)
_TABLE_SUFFIXES: Final = (".tsv", ".csv", ".jsonl", ".ndjson")
_MBOX_SUFFIXES: Final = (".mbox", ".mbx")


@dataclass(frozen=True, slots=True)
class Sample:
    label: int
    text: str | None = None  # an SMS, or an email's text when no raw message is given
    raw: bytes | None = None  # an email's RFC 822 bytes
    subject: str | None = None


@dataclass
class Dataset:
    samples: list[Sample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def labels(self) -> list[int]:
        return [s.label for s in self.samples]

    def counts(self) -> tuple[int, int]:
        positives = sum(s.label for s in self.samples)
        return positives, len(self.samples) - positives


def parse_label(value: object) -> int | None:
    text = str(value).strip().lower()
    if text in POSITIVE:
        return 1
    if text in NEGATIVE:
        return 0
    return None


def _label_from_name(path: Path) -> int | None:
    name = path.name.lower()
    for suffix in (".gz", *_MBOX_SUFFIXES, ".eml"):
        name = name.removesuffix(suffix)
    label = parse_label(name)
    if label is not None:
        return label
    words = set(re.split(r"[^a-z]+", name))
    if words & {"spam", "scam", "phishing", "phish", "fraud"}:
        return 1
    if words & {"ham", "legit", "legitimate", "good"}:
        return 0
    return None


def _split_spec(spec: str) -> tuple[Path, int | None]:
    head, colon, tail = spec.rpartition(":")
    if colon and head and parse_label(tail) is not None and not Path(spec).exists():
        return Path(head), parse_label(tail)
    return Path(spec), None


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def read_dataset(specs: list[str]) -> Dataset:
    """Every labelled message of the paths given."""
    dataset = Dataset()
    for spec in specs:
        path, label = _split_spec(spec)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        plain = path.name.lower().removesuffix(".gz")
        if path.is_file() and plain.endswith(_TABLE_SUFFIXES):
            _read_table(path, dataset)
            continue
        if label is None:
            label = _label_from_name(path)
        if label is None:
            raise InputError(
                f"{path}: cannot tell its class from its name; add :spam or :ham to the path"
            )
        if path.is_dir():
            dataset.samples.extend(Sample(label, raw=raw) for raw in maildir_messages(path))
        else:
            dataset.samples.extend(Sample(label, raw=raw) for raw in mbox_messages(path))
    if not dataset.samples:
        raise InputError("no labelled messages in " + ", ".join(specs))
    return dataset


def mbox_messages(path: Path) -> Iterator[bytes]:
    """The messages of an mbox file (mboxo or mboxrd: one `>` is taken off `>From ` lines)."""
    data = _read_bytes(path)
    if not data.startswith(b"From "):
        raise FormatError(f"{path}: not an mbox file (no 'From ' line first)")
    for chunk in re.split(rb"(?:^|\n)From [^\n]*\n", data):
        if chunk.strip():
            yield _MBOX_ESCAPE.sub(rb"\1", chunk)


def maildir_messages(path: Path) -> Iterator[bytes]:
    """The messages of a maildir (cur/ and new/) or of a folder of message files."""
    folders = [path / "cur", path / "new"] if (path / "cur").is_dir() else [path]
    for folder in folders:
        for item in sorted(folder.rglob("*")):
            if item.is_file() and not item.name.startswith("."):
                yield _read_bytes(item)


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _read_table(path: Path, dataset: Dataset) -> None:
    text = _read_bytes(path).decode("utf-8", "replace")
    plain = path.name.lower().removesuffix(".gz")
    rows: Iterator[tuple[int, dict[str, object]]]
    if plain.endswith((".jsonl", ".ndjson")):
        rows = _json_rows(path, text, dataset)
    else:
        # The SMS Spam Collection quotes nothing: a '"' in a message is a character.
        if plain.endswith(".tsv"):
            reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
        else:
            reader = csv.DictReader(io.StringIO(text))
        rows = ((i + 2, dict(row)) for i, row in enumerate(reader))
    label_col = text_col = raw_col = subject_col = None
    for line, row in rows:
        if label_col is None:
            columns = list(row)
            label_col = _pick(columns, LABEL_COLUMNS)
            text_col = _pick(columns, TEXT_COLUMNS)
            raw_col = _pick(columns, RAW_COLUMNS)
            subject_col = _pick(columns, ("subject",))
            if label_col is None or (text_col is None and raw_col is None):
                raise FormatError(
                    f"{path}: needs a label column ({', '.join(LABEL_COLUMNS)}) and a text "
                    f"column ({', '.join(TEXT_COLUMNS + RAW_COLUMNS)})"
                )
        label = parse_label(row.get(label_col))
        raw = row.get(raw_col) if raw_col else None
        body = row.get(text_col) if text_col else None
        subject = row.get(subject_col) if subject_col else None
        if label is None:
            dataset.skipped.append(f"{path}:{line}: unknown label {row.get(label_col)!r}")
        elif isinstance(raw, str) and raw:
            dataset.samples.append(Sample(label, raw=raw.encode("utf-8", "replace")))
        elif isinstance(body, str) and body:
            dataset.samples.append(
                Sample(label, text=body, subject=subject if isinstance(subject, str) else None)
            )
        else:
            dataset.skipped.append(f"{path}:{line}: no text")


def _json_rows(path: Path, text: str, dataset: Dataset) -> Iterator[tuple[int, dict[str, object]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            dataset.skipped.append(f"{path}:{number}: not JSON ({exc.msg})")
            continue
        if isinstance(row, dict):
            yield number, row
        else:
            dataset.skipped.append(f"{path}:{number}: not a JSON object")
