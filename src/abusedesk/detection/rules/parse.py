"""Expression text -> sqlglot tree (DuckDB dialect), with syntax errors as diagnostics.

sqlglot reports the first syntax error it meets, at the token where it gave up; for the two
mistakes analysts make most (an unclosed parenthesis, a bare `from`) that token is far from the
cause, so both are looked for first and reported where they are.
"""

from __future__ import annotations

import re
from typing import Final

from sqlglot import Token, TokenType, exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from abusedesk.detection.rules.diagnostics import Diagnostic, error
from abusedesk.detection.rules.source import ExprSite

DIALECT: Final = Dialect.get_or_raise("duckdb")
MAX_LENGTH: Final = 10_000
_REQUIRED: Final = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")


def parse_expression(text: str, site: ExprSite) -> tuple[exp.Expression | None, list[Diagnostic]]:
    if len(text) > MAX_LENGTH:
        return None, [
            error("too-long", f"expression is over {MAX_LENGTH} characters", site.span(0))
        ]
    try:
        tokens = DIALECT.tokenize(text)
    except TokenError:
        at = _unclosed_quote(text)
        return None, [
            error(
                "syntax",
                "this quote is never closed",
                site.span(at, at + 1),
                "text goes in 'single quotes'; write '' for a quote inside text",
            )
        ]
    parens = _unbalanced_parens(tokens, site)
    if parens:
        return None, parens
    try:
        trees = DIALECT.parser().parse(tokens, text)
    except ParseError as exc:
        return None, [_bare_from(tokens, site) or _parse_error(exc, tokens, site)]
    trees = [tree for tree in trees if tree is not None]
    if not trees:
        return None, [error("syntax", "the expression is empty", site.span(0))]
    if len(trees) > 1:
        semicolon = next((t for t in tokens if t.token_type == TokenType.SEMICOLON), tokens[0])
        return None, [
            error(
                "syntax",
                "one expression only: `;` ends a statement",
                site.span(semicolon.start, semicolon.end + 1),
            )
        ]
    tree = trees[0]
    if not isinstance(tree, exp.Expression):  # pragma: no cover - every parsed node is one
        return None, [error("syntax", "not an expression", site.span(0))]
    if isinstance(tree, exp.Query) and not any(t.token_type == TokenType.SELECT for t in tokens):
        # DuckDB reads `from = 'x'` as a FROM-first query; say what was meant.
        bare = _bare_from(tokens, site)
        if bare:
            return None, [bare]
    return tree, []


def node_range(node: exp.Expression) -> tuple[int, int] | None:
    """[start, end) offsets of a node in the expression text, from its tokens' positions.

    sqlglot keeps positions on identifiers, literals and function names only; a node covers
    everything its descendants cover (so `a = 'x'` runs from `a` to the closing quote).
    """
    start: int | None = None
    end: int | None = None
    for sub in node.walk():
        meta = sub.meta if sub._meta else None
        if not meta or "start" not in meta:
            continue
        s, e = int(meta["start"]), int(meta["end"]) + 1
        start = s if start is None else min(start, s)
        end = e if end is None else max(end, e)
    return None if start is None or end is None else (start, end)


def _unbalanced_parens(tokens: list[Token], site: ExprSite) -> list[Diagnostic]:
    stack: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            stack.append(token)
        elif token.token_type == TokenType.R_PAREN:
            if not stack:
                return [
                    error(
                        "syntax",
                        "this `)` has no matching `(`",
                        site.span(token.start, token.end + 1),
                    )
                ]
            stack.pop()
    if stack:
        token = stack[-1]
        return [
            error(
                "syntax",
                "this `(` is never closed",
                site.span(token.start, token.end + 1),
                "add a `)` where the group ends",
            )
        ]
    return []


def _bare_from(tokens: list[Token], site: ExprSite) -> Diagnostic | None:
    """A `from` keyword that is not part of IS DISTINCT FROM or EXTRACT(x FROM y)."""
    for i, token in enumerate(tokens):
        if token.token_type != TokenType.FROM:
            continue
        before = [t.token_type for t in tokens[max(0, i - 3) : i]]
        if before[-1:] == [TokenType.DISTINCT] or (
            len(before) == 3 and before[1] == TokenType.L_PAREN
        ):
            continue
        return error(
            "syntax",
            "`from` is an SQL keyword",
            site.span(token.start, token.end + 1),
            'write "from" in double quotes to mean the sender field',
        )
    return None


def _parse_error(exc: ParseError, tokens: list[Token], site: ExprSite) -> Diagnostic:
    info = exc.errors[0] if exc.errors else {}
    line, col = info.get("line"), info.get("col")
    token = next((t for t in tokens if t.line == line and t.col == col), None)
    highlight = str(info.get("highlight") or (token.text if token else ""))
    description = str(info.get("description") or exc)
    if description.startswith("Invalid expression / Unexpected token"):
        message = f"unexpected `{highlight}`"
    elif _REQUIRED.match(description):
        message = f"incomplete expression near `{highlight}`"
    else:
        message = description[:1].lower() + description[1:]
    if token is None:
        return error("syntax", message, site.span(0))
    return error("syntax", message, site.span(token.start, token.end + 1))


def _unclosed_quote(text: str) -> int:
    """Offset of the quote that opens an unterminated string or quoted name (0 if none)."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "'\"":
            close = i + 1
            while True:
                close = text.find(char, close)
                if close < 0:
                    return i
                if text.startswith(char * 2, close):
                    close += 2  # '' inside text is an escaped quote
                    continue
                break
            i = close + 1
        else:
            i += 1
    return 0
