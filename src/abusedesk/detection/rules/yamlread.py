"""Reading composed YAML nodes with their positions, reporting shape errors as diagnostics.

The loader works on PyYAML's node graph (yaml.compose) rather than on loaded Python values:
nodes keep their marks, so every diagnostic, down to a column inside a `when:` string, points
at the file. Each helper returns None after reporting, and the caller carries on with the next
key, so one pass reports every mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from abusedesk.detection.rules.diagnostics import Diagnostic, did_you_mean, error
from abusedesk.detection.rules.source import ExprSite, LineIndex
from abusedesk.detection.spec import Span

_TAG = "tag:yaml.org,2002:"
_TAG_NAMES: Final = {
    "str": "text",
    "int": "a number",
    "float": "a number",
    "bool": "true/false",
    "null": "null",
    "timestamp": "a timestamp",
    "binary": "binary data",
}
# Keys people bring from other rule engines; offered when did-you-mean finds nothing close.
_KEY_ALIASES: Final = {
    "action": "verdict",
    "condition": "when",
    "expr": "when",
    "expression": "when",
    "filter": "where",
    "group_by": "by",
    "groupby": "by",
    "name": "id",
    "level": "severity",
}


def describe(node: yaml.Node) -> str:
    """What a node is, in words, for 'expected X, got Y' messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = str(node.tag)
    return _TAG_NAMES.get(tag.removeprefix(_TAG), "a value")


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    key_node: yaml.Node
    node: yaml.Node


class Reader:
    """Helpers over one file's nodes; diagnostics go to the shared list."""

    def __init__(self, file: str, text: str, diags: list[Diagnostic]) -> None:
        self.file = file
        self.source = text
        self.index = LineIndex.of(text)
        self.diags = diags
        self._constructor = SafeConstructor()

    # -- positions -------------------------------------------------------------------------

    def span(self, node: yaml.Node) -> Span:
        """Where a node starts; carets under the whole scalar when it fits on its line."""
        start, end = node.start_mark, node.end_mark
        end_col = None
        if isinstance(node, yaml.ScalarNode) and end.line == start.line and end.index > start.index:
            end_col = end.column + 1
        return Span(self.file, start.line + 1, start.column + 1, end_col)

    def site(self, node: yaml.ScalarNode) -> ExprSite:
        return ExprSite.in_file(
            self.file,
            self.source,
            self.index,
            str(node.value),
            node.start_mark.index,
            node.end_mark.index,
            node.style or "",
        )

    # -- reporting -------------------------------------------------------------------------

    def error(self, code: str, message: str, node: yaml.Node, hint: str | None = None) -> None:
        self.diags.append(error(code, message, self.span(node), hint))

    # -- shapes ----------------------------------------------------------------------------

    def mapping(self, node: yaml.Node, what: str) -> dict[str, Entry] | None:
        if not isinstance(node, yaml.MappingNode):
            self.error("wrong-type", f"{what} must be a mapping, got {describe(node)}", node)
            return None
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or is_null(key_node):
                self.error("wrong-type", f"keys in {what} must be names", key_node)
                continue
            key = str(key_node.value)
            if key in entries:
                first = self.span(entries[key].key_node)
                self.error(
                    "duplicate-key",
                    f"`{key}` is given twice in {what}",
                    key_node,
                    f"the first is on line {first.line}; YAML would silently keep the last",
                )
                continue
            entries[key] = Entry(key, key_node, value_node)
        return entries

    def check_keys(
        self,
        entries: dict[str, Entry],
        what: str,
        node: yaml.Node,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> None:
        """Unknown keys (with did-you-mean) and missing required keys.

        A missing key that an unknown key looks like a misspelling of is not reported again:
        `severty: high` is one mistake, not two.
        """
        allowed = [*required, *optional]
        suggested: set[str] = set()
        for key, entry in entries.items():
            if key in allowed:
                continue
            guess = did_you_mean(key, allowed) or _KEY_ALIASES.get(key.lower())
            if guess not in allowed:
                guess = None
            hint = f"did you mean `{guess}`?" if guess else "allowed: " + ", ".join(allowed)
            if guess:
                suggested.add(guess)
            self.error("unknown-key", f"unknown key `{key}` in {what}", entry.key_node, hint)
        for key in required:
            if key not in entries and key not in suggested:
                self.error("missing-key", f"{what} has no `{key}`", node)

    def text(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "str":
            return str(node.value)
        self.error("wrong-type", f"{what} must be text, got {describe(node)}", node)
        return None

    def choice(self, node: yaml.Node, what: str, choices: Sequence[str]) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        if value not in choices:
            guess = did_you_mean(value, choices)
            hint = f"did you mean `{guess}`?" if guess else None
            message = f"{what} is `{value}`; expected one of {', '.join(choices)}"
            self.error("bad-value", message, node, hint)
            return None
        return value

    def names(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]] | None:
        """A name or a list of names, each with its node."""
        if isinstance(node, yaml.ScalarNode):
            value = self.text(node, what)
            return None if value is None else [(value, node)]
        if not isinstance(node, yaml.SequenceNode):
            self.error("wrong-type", f"{what} must be a name or a list of names", node)
            return None
        found: list[tuple[str, yaml.Node]] = []
        for item in node.value:
            value = self.text(item, f"each of {what}")
            if value is not None:
                found.append((value, item))
        return found

    def expression(self, node: yaml.Node, what: str) -> tuple[str, ExprSite] | None:
        value = self.text(node, what)
        if value is None:
            return None
        assert isinstance(node, yaml.ScalarNode)  # text() accepted it
        if not value.strip():
            self.error("missing-key", f"{what} is empty", node)
            return None
        return value, self.site(node)

    def value(self, node: yaml.Node, what: str) -> tuple[bool, object]:
        """A plain data value (scalar, list or mapping) as YAML would load it."""
        try:
            return True, self._constructor.construct_object(node, deep=True)
        except (ConstructorError, ValueError) as exc:
            self.error("wrong-type", f"{what} cannot be read: {exc}", node)
            return False, None
