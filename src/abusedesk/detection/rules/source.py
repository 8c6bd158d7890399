"""Positions in pack files: character offsets to 1-based (line, column), and back.

Line breaks are counted the way YAML counts them (LF, CRLF, CR, NEL, LS, PS), so the positions
computed here agree with PyYAML's marks and with what an editor shows for ordinary files.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Final

from abusedesk.detection.spec import Span

_BREAK: Final = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """The lines of `text` without their line breaks (a trailing break adds no empty line)."""
    lines = _BREAK.split(text)
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    return lines


@dataclass(frozen=True, slots=True)
class LineIndex:
    """Offsets of line starts in one text, for O(log n) offset -> (line, col) lookups."""

    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> LineIndex:
        return cls((0, *(match.end() for match in _BREAK.finditer(text))))

    def position(self, offset: int) -> tuple[int, int]:
        """0-based offset -> 1-based (line, col)."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


@dataclass(frozen=True, slots=True)
class ExprSite:
    """Where an expression string sits in its file: one (line, col) per character of the value.

    YAML may fold lines, strip indentation and undo escapes, so the value is not a plain slice of
    the file. The value is, though, a subsequence of the scalar's source text once a folded
    line break is allowed to stand for the space it became; `in_file` aligns the two greedily,
    which is exact for plain, quoted and block scalars, and for the rare escape it cannot place
    (`\\t` in a double-quoted string) falls back to the position just before it.
    """

    file: str
    text: str
    positions: tuple[tuple[int, int], ...]  # len(text) + 1 entries; the last one is the end

    @classmethod
    def bare(cls, text: str, file: str = "<expression>") -> ExprSite:
        index = LineIndex.of(text)
        return cls(file, text, tuple(index.position(i) for i in range(len(text) + 1)))

    @classmethod
    def in_file(  # noqa: PLR0917 - mirrors the scalar's fields; called from one place
        cls, file: str, source: str, index: LineIndex, value: str, start: int, end: int, style: str
    ) -> ExprSite:
        """`start`/`end`: the scalar's offsets in `source` (PyYAML marks); `style`: its style."""
        pos = start
        if style in ("|", ">"):
            # Skip the block header line (indicator, chomping, indent digit, comment).
            newline = _BREAK.search(source, start, end)
            pos = newline.end() if newline else end
        elif style in ("'", '"'):
            pos = start + 1
        offsets: list[int] = []
        for char in value:
            found = _find(source, char, pos, end)
            if found < 0:
                offsets.append(max(pos - 1, start))
                continue
            offsets.append(found)
            pos = found + (2 if source.startswith("\r\n", found) else 1)
        offsets.append(min(pos, end))
        return cls(file, value, tuple(index.position(offset) for offset in offsets))

    def span(self, start: int, end: int | None = None) -> Span:
        """The file span of value[start:end]; one caret when it crosses a line."""
        start = max(0, min(start, len(self.text)))
        line, col = self.positions[start]
        end_col: int | None = None
        if end is not None and end > start:
            last_line, last_col = self.positions[min(end, len(self.text)) - 1]
            if last_line == line:
                end_col = last_col + 1
        return Span(self.file, line, col, end_col)


def _find(source: str, char: str, pos: int, end: int) -> int:
    if char in " \n":
        # A folded line break became a space (or stayed a newline): either may stand for it.
        for i in range(pos, end):
            if source[i] == char or source[i] in "\r\n\x85\u2028\u2029":
                return i
        return -1
    return source.find(char, pos, end)
