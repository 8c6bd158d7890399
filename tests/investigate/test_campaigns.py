"""Campaigns as the desk acts on them: the lake's campaigns of a window (bounded), one found by
id, and the account 360's campaigns with how many of the other accounts are acted on.

On top of the hand-made world (conftest.py), on A's last day:
    A  also sends the USPS lure (domain usps-redeliver1.com) from its own sender
    G  sends A's parcel-fee text from another sender: joins A by the link domain
    H  sends the USPS lure with another code and domain: joins A by near-duplicate text only
    L  a shop's shipping notice: joins nothing
G is suspended; H has a case closed as a confirmed violation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from abusedesk.auth.pii import mask
from abusedesk.cases.lifecycle import do_close_case, do_open_case
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import do_take_action
from abusedesk.errors import NotFoundError
from abusedesk.investigate.account import Limits, account_360
from abusedesk.investigate.account_campaigns import template_fragment
from abusedesk.investigate.campaigns import find_campaign, lake_campaigns
from abusedesk.lake.compaction import compact
from abusedesk.workspace import Workspace

from .conftest import SENDER, A

G, H, L = "ACg", "ACh", "ACl"
LURE = (
    "USPS: Your package {c} is on hold due to an incomplete address. "
    "Update within 24h: https://usps-redeliver{d}.com/x"
)


def _message(i: int, account: str, sender: str, body: str) -> dict[str, Any]:
    return {"id": f"cm{i}", "type": "message", "ts": f"2026-03-03T13:{i:02d}:00Z",
            "account_id": account, "message_id": f"CM{i}", "channel": "sms", "from": sender,
            "to": f"+4474009990{i:02d}", "body": body}  # fmt: skip


@pytest.fixture
def ring(world: Workspace) -> Workspace:
    more = [
        _message(1, A, SENDER, LURE.format(c="Q1001X", d=1)),
        _message(2, G, "+15550000002", "Your parcel is held, pay at http://parcel-fee.example/p/7"),
        _message(3, H, "+15550000003", LURE.format(c="Z2002K", d=2)),
        _message(4, H, "+15550000003", LURE.format(c="Z2003K", d=2)),
        _message(5, L, "+15550000004", "Your Cedarbooks order 555 has shipped. Track it at https://cedarbooks.com/t/5"),
    ]  # fmt: skip
    signups = [
        {"id": f"cs{i}", "type": "account", "ts": "2026-03-01T09:00:00Z", "account_id": a,
         "action": "signup"}
        for i, a in enumerate((G, H, L))
    ]  # fmt: skip
    summary = world.ingestor().ingest_objects(signups + more, source="test")
    assert summary.quarantined == 0, summary
    compact(world.lake_dir, min_files=1)
    do_take_action(
        world.enforcement(),
        ActionRequest(account_id=G, actor="ana", reason="parcel lure", policy="phishing"),
    )
    case_id, _ = do_open_case(world.store, world.clock, world.desk, account_id=H,
                              policy="phishing", actor="ana", reason="lure")  # fmt: skip
    do_close_case(world.store, world.clock, case_id=case_id, resolution="violation_confirmed",
                  actor="ana", reason="lure")  # fmt: skip
    return world


def test_the_window_defaults_to_the_week_up_to_the_newest_message(ring: Workspace) -> None:
    with ring.lake_reader() as reader:
        scan = lake_campaigns(reader, ring.lake_dir)
    assert scan.since == datetime(2026, 2, 25, tzinfo=UTC)
    assert scan.capped is False
    assert scan.note() is None
    assert scan.messages == 15  # A's 10 and the 5 above, all outbound with text
    assert [sorted(c.accounts) for c in scan.campaigns] == [sorted([A, G, H])]


def test_a_capped_window_says_where_reading_stopped(ring: Workspace) -> None:
    with ring.lake_reader() as reader:
        scan = lake_campaigns(reader, ring.lake_dir, max_messages=11)
        later = lake_campaigns(reader, ring.lake_dir, since=datetime(2026, 3, 3, 13, tzinfo=UTC))
    assert (scan.messages, scan.capped) == (11, True)
    assert scan.read_until == datetime(2026, 3, 3, 13, 1, tzinfo=UTC)
    assert "first 11 messages" in (scan.note() or "")
    # From 13:00 on: A's lure, G's parcel text and H's lures; G and A share only a domain
    # that A's lure lacks, so A and H group and G stays apart.
    assert (later.messages, later.capped) == (5, False)
    assert [sorted(c.accounts) for c in later.campaigns] == [sorted([A, H])]


def test_find_campaign_by_id_or_a_one_line_not_found(ring: Workspace) -> None:
    with ring.lake_reader() as reader:
        scan = lake_campaigns(reader, ring.lake_dir)
    campaign = scan.campaigns[0]
    assert find_campaign(scan, campaign.id) is campaign
    with pytest.raises(NotFoundError, match=r"^no campaign c-0000000000 in the lake's messages"):
        find_campaign(scan, "c-0000000000")


def test_account_360_shows_its_campaigns_and_who_is_acted_on(ring: Workspace) -> None:
    view = account_360(ring.store, ring.account_lake(), A, Limits(days=30, sample=3))
    found = view["campaigns"]
    assert found["window"] == {"first_day": "2026-03-02", "last_day": "2026-03-03"}
    assert found["capped"] is False
    [campaign] = found["campaigns"]
    assert campaign["accounts"] == 3
    assert campaign["other_accounts"] == [G, H]
    assert (campaign["others_enforced"], campaign["others_confirmed"]) == (1, 1)
    assert campaign["others_acted_on"] == 2
    assert campaign["messages"] == 14  # A's 11, G's 1, H's 2; not L's
    assert found["messages_read"] == 14
    with ring.lake_reader() as reader:
        lake_wide = lake_campaigns(reader, ring.lake_dir).campaigns[0]
    assert campaign["campaign"] == lake_wide.id  # the same templates give the same id
    # The sample is a message body: masked with the 360's other bodies until revealed.
    assert mask(found)["campaigns"][0]["sample"]["body"].startswith("[body masked: ")


def test_account_360_of_an_unrelated_sender_has_no_campaign(ring: Workspace) -> None:
    view = account_360(ring.store, ring.account_lake(), L, Limits(days=30, sample=3))
    assert view["campaigns"]["campaigns"] == []


def test_the_neighbourhood_read_is_capped(ring: Workspace) -> None:
    limits = Limits(days=30, sample=3, campaign_rows=2)
    found = account_360(ring.store, ring.account_lake(), A, limits)["campaigns"]
    assert found["capped"] is True


def test_template_fragment_is_a_literal_run_of_words() -> None:
    body = LURE.format(c="Q1001X", d=1)
    fragment = template_fragment(body)
    assert fragment == "is on hold due to an incomplete address. Update within"
    assert fragment in LURE.format(c="Z9999K", d=7)
    assert template_fragment("Your code is 123456") is None


def test_template_fragment_of_one_long_token_inside_digits_is_none() -> None:
    # A run that is a single word cut at both ends (a token or hash between digits) leaves
    # nothing once the cut words are dropped; found on the 24 M-event bench lake.
    assert template_fragment("1" + "x" * 30 + "2") is None
    assert template_fragment("id 7" + "abcdefghij" * 3 + "9 sent") is None


def test_bulk_plan_on_a_campaign_over_the_api(ring: Workspace) -> None:
    from fastapi.testclient import TestClient

    from abusedesk.api.app import create_app
    from abusedesk.auth.tokens import do_create_token

    token, _ = do_create_token(ring.store, ring.clock, name="ana", role="analyst", actor="t")
    headers = {"Authorization": f"Bearer {token}"}
    with ring.lake_reader() as reader:
        campaign = lake_campaigns(reader, ring.lake_dir).campaigns[0]
    body = {"policy": "phishing", "reason": "parcel lure ring", "campaign": campaign.id}
    with TestClient(create_app(ring)) as client:
        planned = client.post("/v1/bulk", json=body, headers=headers)
        assert planned.status_code == 201, planned.text
        job = planned.json()["job"]
        assert [i["account_id"] for i in planned.json()["items"]] == [A, G, H]
        assert job["selector"]["campaign"] == campaign.id
        assert job["selector"]["since"] == "2026-02-25T00:00:00+00:00"
        assert job["selector"]["messages"] == 15
        # A later window holds other messages of the campaign, and with them another id.
        later = {**body, "since": "2026-03-03T13:00:00Z"}
        missing = client.post("/v1/bulk", json=later, headers=headers)
        assert missing.status_code == 404
        assert missing.json()["error"]["message"].startswith(f"no campaign {campaign.id} ")
        both = client.post("/v1/bulk", json={**body, "accounts": [A]}, headers=headers)
        assert both.status_code == 400


@pytest.mark.usefixtures("cli_env")
def test_the_cli_account_page_lists_its_campaigns(ring: Workspace) -> None:
    from typer.testing import CliRunner

    from abusedesk.cli.main import app

    with ring.lake_reader() as reader:
        campaign = lake_campaigns(reader, ring.lake_dir).campaigns[0]
    shown = CliRunner().invoke(app, ["accounts", "show", A])
    assert shown.exit_code == 0, shown.output
    # 14 read: A's 11, G's and H's; L's shipping notice shares nothing with A's messages.
    assert "campaigns (1; 2026-03-02 .. 2026-03-03, 14 messages read)" in shown.output
    assert campaign.id in shown.output
