"""Abuse scenarios: each a module with a parameter dataclass and a `build` function.

`REGISTRY` maps the scenario name (the label written to labels.json) to its parameter class and
builder, in the order they are built. A builder may look at what earlier scenarios built (the
ban evader needs the ring it evades), so the order matters and is fixed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from abusedesk.sim.actor import Actor
from abusedesk.sim.context import SimContext
from abusedesk.sim.scenarios import (
    ban_evasion,
    compromised,
    consent,
    email_spam,
    prohibited,
    pumping,
    pumping_thin,
    purchased_list,
    robocall,
    smishing,
    snowshoe,
)
from abusedesk.sim.scenarios.common import Cast

Builder = Callable[[SimContext, Any, Cast], list[Actor]]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    params: type
    build: Builder
    summary: str


def _scenario(name: str, module: ModuleType, params: type) -> Scenario:
    return Scenario(name, params, module.build, (module.__doc__ or "").strip())


REGISTRY: dict[str, Scenario] = {
    s.name: s
    for s in (
        _scenario("sms_pumping", pumping, pumping.PumpingParams),
        _scenario("smishing_ring", smishing, smishing.SmishingParams),
        _scenario("email_spam", email_spam, email_spam.EmailSpamParams),
        _scenario("compromised_account", compromised, compromised.CompromisedParams),
        _scenario("purchased_list", purchased_list, purchased_list.PurchasedListParams),
        _scenario("consent_violation", consent, consent.ConsentParams),
        _scenario("prohibited_content", prohibited, prohibited.ProhibitedParams),
        _scenario("ban_evasion", ban_evasion, ban_evasion.BanEvasionParams),
        _scenario("snowshoe", snowshoe, snowshoe.SnowshoeParams),
        _scenario("voice_robocall", robocall, robocall.RobocallParams),
        _scenario("sms_pumping_thin", pumping_thin, pumping_thin.ThinPumpingParams),
    )
}
