"""Rule pack files -> RulePack, with every position the later stages need.

A pack is one YAML file or a folder of them (*.yaml, *.yml, read in name order and merged).
The loader checks shape only: keys, types, enumerations, windows, duplicates. It never stops at
the first mistake; `validate` then checks the expressions and names against the whole pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from abusedesk.detection.rules.diagnostics import Diagnostic, error, sort_key
from abusedesk.detection.rules.load_features import FeatureSource, read_feature, resolve_ratio_of
from abusedesk.detection.rules.load_rules import RuleSource, read_rule
from abusedesk.detection.rules.yamlread import Reader, is_null
from abusedesk.detection.spec import FeatureSpec, RulePack, RuleSpec, Span

TOP_KEYS = ("pack", "features", "rules")


@dataclass(slots=True)
class LoadedPack:
    """What the loader read, good or not; `pack` holds every entry that could be read."""

    pack: RulePack
    diagnostics: list[Diagnostic]
    sources: dict[str, str]  # file (as displayed) -> text, for rendering diagnostics
    features: dict[str, FeatureSource] = field(default_factory=dict)
    rules: dict[str, RuleSource] = field(default_factory=dict)
    n_rules: int = 0  # rule entries seen, including those that could not be read


def load(path: Path) -> LoadedPack:
    """Read a pack file or folder. Paths in diagnostics are shown as `path` was given."""
    diags: list[Diagnostic] = []
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            diags.append(error("io-error", f"{path} has no .yaml files"))
    elif path.exists():
        files = [path]
    else:
        files = []
        diags.append(error("io-error", f"{path} does not exist"))
    texts: list[tuple[str, str]] = []
    for file in files:
        try:
            texts.append((str(file), file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            diags.append(error("io-error", f"cannot read {file}: {exc}"))
    default_name = path.stem if path.is_file() else path.name
    return load_texts(texts, default_name or "pack", diags)


def load_text(text: str, file: str = "<pack>") -> LoadedPack:
    return load_texts([(file, text)], Path(file).stem or "pack")


def load_texts(
    texts: list[tuple[str, str]], default_name: str, diags: list[Diagnostic] | None = None
) -> LoadedPack:
    state = _State(diags if diags is not None else [])
    for file, text in texts:
        state.sources[file] = text
        state.read_file(Reader(file, text, state.diags))
    features, more = resolve_ratio_of(
        state.features, {name: src.spans for name, src in state.feature_sources.items()}
    )
    state.diags.extend(more)
    state.diags.sort(key=sort_key)
    pack = RulePack(
        name=state.name or default_name,
        features=tuple(features),
        rules=tuple(state.rules),
        files=tuple(state.sources),
    )
    return LoadedPack(
        pack,
        state.diags,
        state.sources,
        state.feature_sources,
        state.rule_sources,
        state.n_rules,
    )


@dataclass(slots=True)
class _State:
    diags: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    name_span: Span | None = None
    features: list[FeatureSpec] = field(default_factory=list)
    feature_sources: dict[str, FeatureSource] = field(default_factory=dict)
    rules: list[RuleSpec] = field(default_factory=list)
    rule_sources: dict[str, RuleSource] = field(default_factory=dict)
    rule_ids: dict[str, Span] = field(default_factory=dict)  # across files, for duplicates
    n_rules: int = 0

    def read_file(self, reader: Reader) -> None:
        try:
            root = yaml.compose(reader.source, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            span = Span(reader.file, mark.line + 1, mark.column + 1) if mark else None
            problem = exc.problem or exc.context or "not valid YAML"
            hint = None
            if exc.context and exc.problem and exc.context_mark:
                hint = f"{exc.context} that starts on line {exc.context_mark.line + 1}"
            elif problem.startswith("mapping values are not allowed"):
                hint = "a value with `: ` in it must be quoted, or written as a block (`when: |`)"
            self.diags.append(error("yaml-syntax", problem, span, hint))
            return
        except yaml.YAMLError as exc:
            self.diags.append(error("yaml-syntax", f"{reader.file}: {exc}"))
            return
        if root is None or is_null(root):
            return  # an empty file is an empty pack
        entries = reader.mapping(root, "a rule pack")
        if entries is None:
            return
        reader.check_keys(entries, "the pack", root, (), TOP_KEYS)
        if "pack" in entries:
            self._read_name(reader, entries["pack"].node)
        if "features" in entries:
            self._read_features(reader, entries["features"].node)
        if "rules" in entries:
            self._read_rules(reader, entries["rules"].node)

    def _read_name(self, reader: Reader, node: yaml.Node) -> None:
        name = reader.text(node, "`pack`")
        if name is None:
            return
        if self.name is not None and name != self.name and self.name_span is not None:
            first = self.name_span
            reader.error(
                "bad-value",
                f"pack name `{name}` differs from `{self.name}`",
                node,
                f"named at {first.file}:{first.line}; files of one pack share one name",
            )
            return
        self.name, self.name_span = name, reader.span(node)

    def _read_features(self, reader: Reader, node: yaml.Node) -> None:
        if is_null(node):
            return
        entries = reader.mapping(node, "`features`")
        for name, entry in (entries or {}).items():
            read = read_feature(reader, name, entry.key_node, entry.node)
            if read is None:
                continue
            spec, source = read
            if name in self.feature_sources:
                first = next(f.span for f in self.features if f.name == name)
                message = f"feature `{name}` is defined twice"
                reader.error("duplicate-id", message, entry.key_node, _first_at(first))
                continue
            self.features.append(spec)
            self.feature_sources[name] = source

    def _read_rules(self, reader: Reader, node: yaml.Node) -> None:
        if is_null(node):
            return
        if not isinstance(node, yaml.SequenceNode):
            reader.error("wrong-type", "`rules` must be a list of rules", node)
            return
        seen = self.rule_ids
        for item in node.value:
            self.n_rules += 1
            read = read_rule(reader, item, self.n_rules)
            if read is None:
                continue
            if read.id is not None and read.id in seen:
                message = f"rule id `{read.id}` is used twice"
                self.diags.append(
                    error("duplicate-id", message, read.id_span, _first_at(seen[read.id]))
                )
            elif read.id is not None:
                seen[read.id] = read.id_span
            spec, source = read.spec, read.source
            if spec is None or source is None:
                continue
            if spec.id in self.rule_sources:
                # Keep checking the duplicate's expression under a suffixed id, so lint still
                # reports its own mistakes; the pack is refused anyway.
                spec = replace(spec, id=f"{spec.id}#{self.n_rules}")
            self.rules.append(spec)
            self.rule_sources[spec.id] = source


def _first_at(span: Span | None) -> str | None:
    return f"first defined at {span.file}:{span.line}" if span else None
