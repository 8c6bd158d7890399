"""The rule-pack language: YAML packs of SQL conditions, loaded, checked, compiled and tested.

Pipeline: load (YAML -> RulePack with positions; load_features, load_rules, yamlread) ->
lint (names, features, test rows, warnings; expressions -> parse + checker/check_calls for one
expression) -> compile (expression -> Python function with SQL three-valued logic; functions
holds the allowed functions; transpile renders the same text for DuckDB) -> pack (CompiledPack:
what the engines run) -> testing (embedded rule tests, with traces) -> cli (`rules lint/test`).
Everything here is pure: reading the pack files is the only I/O. See docs/rules.md.
"""

from abusedesk.detection.rules.compile import (
    CompiledExpression,
    ExpressionInvalid,
    compile_expression,
    to_duckdb_sql,
)
from abusedesk.detection.rules.diagnostics import Diagnostic, render
from abusedesk.detection.rules.names import MODEL_SCORES, Namespace, pack_namespace
from abusedesk.detection.rules.pack import (
    CompiledPack,
    CompiledRule,
    PackInvalid,
    RuleFailed,
    analyze_path,
)
from abusedesk.detection.rules.testing import TestOutcome, run_tests

__all__ = [
    "MODEL_SCORES",
    "CompiledExpression",
    "CompiledPack",
    "CompiledRule",
    "Diagnostic",
    "ExpressionInvalid",
    "Namespace",
    "PackInvalid",
    "RuleFailed",
    "TestOutcome",
    "analyze_path",
    "compile_expression",
    "pack_namespace",
    "render",
    "run_tests",
    "to_duckdb_sql",
]
