"""The import graph keeps the layers pointing one way (docs/architecture.md).

Every `import` in src/abusedesk is read with ast (at any depth: imports inside functions and
under TYPE_CHECKING count too, since they are the same dependency), and two things are checked:

- no cycle between the top-level parts of abusedesk (its packages and its top-level modules);
- detection/ is pure: it imports from abusedesk only detection itself, the event contract
  (events/schema.py), enrich/, content/ (the text models), errors and the clock.

A failure names the importing file and line, so the fix starts where the arrow was added.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import abusedesk

SRC: Final = Path(abusedesk.__file__).parent
DETECTION_MAY_IMPORT: Final = (
    "abusedesk.detection",
    "abusedesk.events.schema",
    "abusedesk.enrich",
    # Content models score a message's text like enrichment does (pure, shipped with the
    # package); content/ itself imports only enrich, errors and its own modules.
    "abusedesk.content",
    "abusedesk.errors",
    "abusedesk.clock",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. abusedesk.detection.engine
    target: str  # what it imports, e.g. abusedesk.events.schema
    file: Path  # relative to the folder holding the package
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: imports {self.target}"


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, src: Path = SRC) -> Iterator[Import]:
    module = module_name(path, src)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            # `from abusedesk.events import runs` imports the module abusedesk.events.runs;
            # `from abusedesk import __version__` imports a name of abusedesk itself.
            names = [f"{stem}.{alias.name}" for alias in node.names if stem]
            names = [name for name in names if _is_module(name, src)] + [stem]
        else:
            continue
        for name in names:
            if name == "abusedesk" or name.startswith("abusedesk."):
                yield Import(module, name, path.relative_to(src.parent), node.lineno)


def _is_module(name: str, src: Path) -> bool:
    path = src.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_imports(src: Path = SRC) -> list[Import]:
    return [imp for path in sorted(src.rglob("*.py")) for imp in imports_of(path, src)]


def part(name: str) -> str:
    """The top-level part of abusedesk a module belongs to: abusedesk.cases.sla -> cases."""
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def part_graph(imports: list[Import]) -> dict[str, dict[str, Import]]:
    """part -> part it imports -> one import that makes the edge (for the message)."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in imports:
        a, b = part(imp.module), part(imp.target)
        if a and b and a != b:
            graph.setdefault(a, {}).setdefault(b, imp)
    return graph


def find_cycle(graph: dict[str, dict[str, Import]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def impure_detection_imports(imports: list[Import]) -> list[Import]:
    def allowed(target: str) -> bool:
        return any(target == p or target.startswith(p + ".") for p in DETECTION_MAY_IMPORT)

    return [
        imp
        for imp in imports
        if part(imp.module) == "detection" and imp.target != "abusedesk" and not allowed(imp.target)
    ]


def test_no_cycle_between_top_level_parts() -> None:
    graph = part_graph(all_imports())
    cycle = find_cycle(graph)
    if cycle is not None:
        edges = [str(graph[a][b]) for a, b in itertools.pairwise(cycle)]
        raise AssertionError("import cycle " + " -> ".join(cycle) + ":\n  " + "\n  ".join(edges))


def test_detection_is_pure() -> None:
    bad = impure_detection_imports(all_imports())
    assert not bad, "detection/ must not import these (see docs/architecture.md):\n  " + (
        "\n  ".join(str(imp) for imp in bad)
    )


def test_the_checks_see_a_forbidden_import(tmp_path: Path) -> None:
    """The checks catch what they are for: a tree where detection imports cases, which
    imports detection, has a cycle and an impure detection."""
    root = tmp_path / "abusedesk"
    for folder in ("detection", "cases", "events"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "events" / "schema.py").write_text("X = 1\n")
    (root / "detection" / "engine.py").write_text(
        "from abusedesk.events.schema import X\n\n\ndef f() -> None:\n"
        "    from abusedesk.cases import services\n"
    )
    (root / "cases" / "services.py").write_text("from ..detection.engine import f\n")
    imports = all_imports(root)
    assert find_cycle(part_graph(imports)) in (
        ["cases", "detection", "cases"],
        ["detection", "cases", "detection"],
    )
    assert [imp.target for imp in impure_detection_imports(imports)] == [
        "abusedesk.cases.services",
        "abusedesk.cases",
    ]
