"""Which features an event of each type reads: only what the rules that can match it use.

Reads are most of the feature cost: reading every feature, a message event reads all 51 of the
playbook's where its rules need 18. A rule whose `when` requires `type = 'x'` at its top level
cannot match another type, whatever its features are (FALSE AND anything is FALSE). So an event
of type T reads the features named by the rules that admit T (CompiledPack.rule_types) and by
the rules that admit any type, plus, recursively, the parts of every ratio of features among
them: its value is computed from theirs. Those parts are also exactly what `_evidence_names` in
engine.py adds to a rule's evidence, so a signal keeps every value it names.

A type no rule names (or a type the pack does not know) reads what the untyped rules read. The
verdict's `features` are then the features read for its event's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from abusedesk.detection.features.plan import with_parts
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import EVENT_TYPES


@dataclass(frozen=True, slots=True)
class FeatureReads:
    by_type: Mapping[str, frozenset[str]]  # every event type of the schema or of a rule
    other: frozenset[str]  # any other type: what the rules that admit every type read

    def for_type(self, event_type: str) -> frozenset[str]:
        return self.by_type.get(event_type, self.other)


def feature_reads(pack: CompiledPack) -> FeatureReads:
    specs = [feature.spec for feature in pack.features.values()]
    typed: dict[str, set[str]] = {event_type: set() for event_type in EVENT_TYPES}
    untyped: set[str] = set()
    for rule in pack.rules:
        used = [name for name in rule.condition.references if name in pack.features]
        names = with_parts(used, specs)
        types = pack.rule_types[rule.spec.id]
        if types is None:
            untyped |= names
        else:
            for event_type in types:
                typed.setdefault(event_type, set()).update(names)
    other = frozenset(untyped)
    return FeatureReads({t: other | names for t, names in typed.items()}, other)
