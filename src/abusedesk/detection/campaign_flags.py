"""`campaign_enforced_accounts`: how many other accounts of a message's campaign detection has
already flagged ("accounts in my campaign, of which enforced", as far as detection knows).

Detection cannot see enforcement (it is pure, and actions come later, from people), so
"enforced" here means what detection itself decided: an account is flagged from the event after
a live rule of severity high or critical (FLAG_SEVERITIES, as for linked accounts)
matched one of its events. Only rules that read no engine state flag here: a rule that reads
`campaign_enforced_accounts` or `linked_flagged_accounts` (itself or through a feature) does
not. That keeps the value a function of the events and the pack alone, so a backtest computes
exactly what streaming computes (backtest.py: the flagging rules' matches first, then the
value, then the rules that read it), and no rule feeds its own input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from abusedesk.detection.rules.pack import CompiledPack

NAME: Final = "campaign_enforced_accounts"
# Row names that depend on earlier verdicts; a rule reading one flags no campaign.
STATE_NAMES: Final = frozenset({"linked_flagged_accounts", NAME})
# A live match this severe flags the account: for related-account detection (links.py, through
# the engine) and for its campaigns.
FLAG_SEVERITIES: Final = frozenset({"high", "critical"})


def feature_reads_column(feature: Any, column: str) -> bool:
    """Whether a compiled feature reads `column` (as a key, a value or in a filter); True when
    a filter does not say which columns it reads."""
    spec = feature.spec
    if column in spec.by or column == spec.of:
        return True
    for text, fn in ((spec.where, feature.where_fn), (spec.over, feature.over_fn)):
        if text is None:
            continue
        columns = getattr(fn, "columns", None)
        if columns is None or column in columns:
            return True
    return False


def reads_state(pack: CompiledPack, names: Iterable[str]) -> bool:
    """Whether expressions reading `names` read engine state, directly or through features
    (and the parts of ratios of features)."""
    for name in names:
        if name in STATE_NAMES:
            return True
        feature = pack.features.get(name)
        if feature is None:
            continue
        if any(feature_reads_column(feature, column) for column in STATE_NAMES):
            return True
        parts = [p for p in (feature.spec.numerator, feature.spec.denominator) if p]
        if parts and reads_state(pack, parts):
            return True
    return False


def flagging_rules(pack: CompiledPack) -> frozenset[str]:
    """The ids of the rules whose live matches flag an account for its campaigns."""
    return frozenset(
        rule.spec.id
        for rule in pack.rules
        if rule.live
        and rule.spec.severity in FLAG_SEVERITIES
        and not reads_state(pack, rule.condition.references)
    )


def enforced_in(members: set[str], flagged: set[str], account: str | None) -> int:
    """Accounts of a campaign (`members`, this message's account included) flagged before
    this event, the account itself left out."""
    small, large = (members, flagged) if len(members) <= len(flagged) else (flagged, members)
    return sum(1 for a in small if a in large and a != account)
