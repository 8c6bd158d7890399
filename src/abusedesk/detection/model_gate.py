"""Which messages need the content models: those a rule reading a model column could match.

Scoring a message (content.scorer) and indexing it for campaigns (content.campaigns) cost more
than everything else detection does for it. A rule reads `spam_score`, `campaign_accounts` or
`campaign_enforced_accounts` inside its `when`; where that `when` is `A AND B AND …` at its top
level, the rule is TRUE only if every conjunct is, so the conjuncts that read no model column
(its *precondition*) must be TRUE on the row first. A model column is computed for a message
only when the precondition of at least one rule reading it holds on the message's row, after
features (a precondition may read `account_age_h`). The gate of a column is the OR of those
preconditions, as one expression: compiled for streaming, rendered for DuckDB in backtests.

- `spam_score` (the score gate): exact. A rule whose precondition is not TRUE cannot match
  whatever the score, so every verdict and every match is the one scoring every message gives.
  A message no rule could use this way reads NULL (so does the decision API's answer).
- campaigns (the campaign gate): the index is made of the messages that pass it, so
  `campaign_accounts` counts the accounts of a message's campaign among those messages. With
  the default playbook that is young accounts' outbound messages (docs/content.md: established
  senders share templates; a ring's accounts are new).

Features are computed before the gates read the row, so no feature may read a model column
here. A pack in which one does (a windowed count of spam-scored sends, say) is `eager`: every
message gets its model columns before its features, as that pack is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import sqlglot
from sqlglot import exp

from abusedesk.detection.campaign_flags import NAME as CAMPAIGN_ENFORCED
from abusedesk.detection.campaign_flags import feature_reads_column
from abusedesk.detection.rules.pack import CompiledPack

# Row columns the content models compute (content/), answered with the features.
MODEL_COLUMNS: Final = ("spam_score", "campaign_accounts", CAMPAIGN_ENFORCED)
SCORE_COLUMNS: Final = frozenset(MODEL_COLUMNS[:1])
CAMPAIGN_COLUMNS: Final = frozenset(MODEL_COLUMNS[1:])
_ANY_MODEL: Final = frozenset(MODEL_COLUMNS)


@dataclass(frozen=True, slots=True)
class ModelGates:
    """`eager`: a feature reads a model column, so every message is scored and indexed before
    its features (the gates are then unused). Otherwise each gate is a condition over the row
    after features, "TRUE" when some reader has no other conjunct, or None when no rule reads
    the columns (nothing to compute)."""

    eager: bool
    score: str | None
    campaign: str | None

    def describe(self) -> str:
        """The gates as comment lines (`abusedesk rules explain`)."""
        if self.eager:
            return "# every message, before its features: a feature reads a model column"
        return "\n".join(
            f"# {what}: {'never (no rule reads it)' if text is None else 'when ' + text}"
            for what, text in (("spam_score", self.score), ("campaign index", self.campaign))
        )


def model_gates(pack: CompiledPack) -> ModelGates:
    eager = any(
        feature_reads_column(feature, column)
        for feature in pack.features.values()
        for column in MODEL_COLUMNS
    )
    whens = [rule.spec.when for rule in pack.rules]
    return ModelGates(
        eager, gate(whens, SCORE_COLUMNS, _ANY_MODEL), gate(whens, CAMPAIGN_COLUMNS, _ANY_MODEL)
    )


def gate(whens: Iterable[str], read: frozenset[str], models: frozenset[str]) -> str | None:
    """The OR of the preconditions of the conditions that read a name of `read`, each without
    its conjuncts that read any name of `models`; None when no condition reads `read`."""
    preconditions: list[str] = []
    for when in whens:
        tree = sqlglot.parse_one(when, read="duckdb")
        if not _names(tree) & read:
            continue
        kept = [c for c in _conjuncts(tree) if not _names(c) & models]
        if not kept:
            return "TRUE"
        text = " AND ".join(f"({c.sql(dialect='duckdb')})" for c in kept)
        if text not in preconditions:
            preconditions.append(text)
    if not preconditions:
        return None
    return (
        preconditions[0]
        if len(preconditions) == 1
        else " OR ".join(f"({p})" for p in preconditions)
    )


def _conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.And):
        return [c for part in (tree.left, tree.right) for c in _conjuncts(part)]
    return [tree]


def _names(tree: exp.Expr) -> set[str]:
    return {column.name for column in tree.find_all(exp.Column)}
