"""Where ingest reads from: files, folders (recursively) and gzip files, with byte progress."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from abusedesk.errors import InputError

SNIFF_BYTES = 65_536


def expand(paths: list[Path]) -> list[Path]:
    """Every file named, and every file under every folder named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return files


class _Counting(io.RawIOBase):
    """Reports how many raw (on-disk) bytes were read, for progress bars over .gz files too."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    # typeshed declares the buffer as WriteableBuffer; a memoryview is what io passes.
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n and self._on_bytes is not None:
            self._on_bytes(n)
        return n


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


@contextmanager
def open_source(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[BinaryIO]:
    """A binary stream of the file's content, decompressed when it is gzip."""
    with path.open("rb") as raw:
        counted = io.BufferedReader(_Counting(raw, on_bytes), buffer_size=1 << 20)
        if is_gzip(path):
            with gzip.GzipFile(fileobj=counted, mode="rb") as unzipped:
                yield unzipped  # type: ignore[misc]  # GzipFile is a BinaryIO in all but name
        else:
            yield counted


def head(path: Path) -> bytes:
    """The first bytes of the (decompressed) content, for format detection."""
    with open_source(path) as stream:
        try:
            return stream.read(SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from exc
