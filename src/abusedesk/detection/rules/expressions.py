"""Validate one expression: a scalar boolean condition over known names, with sound kinds.

The check is an allow-list walk (checker.py): every sqlglot node type a rule may use has a
handler that also infers its kind; anything else (queries, aggregates, window functions, functions not in
functions.FUNCTIONS, placeholders, ...) is refused with the reason. The inferred kinds are kept
for the compiler, which needs them where Python and DuckDB would otherwise differ (CAST).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from abusedesk.detection.rules.checker import Checker
from abusedesk.detection.rules.diagnostics import Diagnostic
from abusedesk.detection.rules.names import ExprKind, Namespace
from abusedesk.detection.rules.parse import parse_expression
from abusedesk.detection.rules.source import ExprSite


@dataclass(frozen=True, slots=True)
class Checked:
    """One validated expression: its tree, inferred kinds and referenced names."""

    text: str
    tree: exp.Expression | None
    kinds: dict[int, ExprKind | None] = field(default_factory=dict)  # id(node) -> kind
    references: frozenset[str] = frozenset()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return self.tree is not None and not any(d.is_error for d in self.diagnostics)

    def kind_of(self, node: exp.Expression) -> ExprKind | None:
        return self.kinds.get(id(node))


def check_expression(
    text: str,
    namespace: Namespace | None,
    *,
    site: ExprSite | None = None,
    features_allowed: bool = True,
    what: str = "condition",
    boolean: bool = True,
) -> Checked:
    """Parse and validate a condition. `namespace=None` accepts any name (kinds unknown).

    `boolean=False` accepts a value of any kind (for tools that compute values, and tests).
    """
    site = site or ExprSite.bare(text)
    tree, diags = parse_expression(text, site)
    if tree is None:
        return Checked(text, None, diagnostics=tuple(diags))
    checker = Checker(text, site, namespace, features_allowed, what)
    kind = checker.visit(tree)
    if boolean and kind not in ("bool", "null", None):
        checker.not_boolean(tree, kind)
    return Checked(text, tree, checker.kinds, frozenset(checker.refs), tuple(diags + checker.diags))
