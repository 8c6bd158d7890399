"""When the default playbook opens a case: strong evidence at once, weak evidence when it lasts.

Events through the real engine and the real case bar (no database), as every path runs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from abusedesk.detection.case_bar import AccountCases
from abusedesk.detection.engine import DetectionEngine
from abusedesk.events.schema import validate_event

# 21:42 in Miami (EST, UTC-5): quiet hours at the recipient.
NIGHT = datetime(2026, 3, 3, 2, 42, tzinfo=UTC)
PROMO = (
    "Asterbooks: {n}, your member reward is ready. https://asterbooks.com/m/x Reply STOP to opt out"
)
ALERT = "Lumenmart Schools: all schools are CLOSED tomorrow after tonight's storm. Stay safe."


def campaign(body: str, at: datetime, count: int, tag: str) -> Iterator[dict[str, object]]:
    for i in range(count):
        yield {
            "id": f"evt_{tag}_{i}",
            "type": "message",
            "ts": (at + timedelta(seconds=2 * i)).isoformat(),
            "account_id": "AC1",
            "message_id": f"SM{tag}{i}",
            "channel": "sms",
            "from": "+13055550100",
            "to": f"+1305555{i:04d}",
            "body": body.format(n=f"Reader {i}"),
            "campaign_id": f"cmp-{tag}",
        }


def opened(events: Iterator[dict[str, object]]) -> list[tuple[int, str]]:
    """(index of the event, rule) for each case the events open."""
    engine = DetectionEngine.load()
    cases = AccountCases()
    out = []
    for i, raw in enumerate(events):
        event = validate_event(raw)
        verdict = engine.evaluate(event)
        for rule, call in zip(
            verdict.matched,
            cases.observe(verdict.matched, event.account_id, event.ts, verdict.row),
            strict=True,
        ):
            if call is not None and call.opened:
                out.append((i, rule.id))
    return out


def test_a_marketing_campaign_at_night_is_a_case_the_first_night() -> None:
    assert opened(campaign(PROMO, NIGHT, 60, "promo")) == [(19, "sms-quiet-hours-solicitation")]


def test_an_emergency_alert_at_night_is_held_but_not_a_case() -> None:
    assert opened(campaign(ALERT, NIGHT, 60, "alert")) == []


def test_alerts_that_come_back_night_after_night_are_a_case() -> None:
    def nights() -> Iterator[dict[str, object]]:
        yield from campaign(ALERT, NIGHT, 30, "n1")
        yield from campaign(ALERT, NIGHT + timedelta(hours=9), 30, "n2")  # 06:42 local

    # The rule matches from the 20th text of the day (events 19-29 the first night); the bar
    # wants 20 matches over 2 h or more: the 9th text of the second night.
    assert opened(nights()) == [(38, "sms-quiet-hours")]
