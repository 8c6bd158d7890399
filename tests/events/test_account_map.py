"""The account map: each provider key, sender domain and IP, the registry's only owner, the
order they are tried in, and the map file's errors. Events come from real samples
(tests/events/fixtures/real) through the real adapters; where a sample lacks the field (no
public SendGrid sample names an IP pool), the field is added to a copy of the sample."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from abusedesk.errors import ConfigError
from abusedesk.events.account_map import AccountMap, load_account_map, parse_account_map
from abusedesk.events.adapters.base import Limits, Record
from abusedesk.events.adapters.mailgun import MailgunAdapter
from abusedesk.events.adapters.sendgrid import SendGridAdapter
from abusedesk.events.adapters.ses import SesAdapter

REAL = Path(__file__).parent / "fixtures" / "real"


def raw_events(adapter: Any, data: bytes) -> list[dict[str, Any]]:
    out = []
    for item in adapter.parse(io.BytesIO(data), "sample", Limits()):
        assert isinstance(item, Record), item
        out.append(item.raw)
    return out


def sendgrid(changes: dict[str, Any] | None = None, subuser: str | None = None) -> dict[str, Any]:
    (value,) = orjson.loads((REAL / "sendgrid" / "anymail-processed.json").read_bytes())
    value.update(changes or {})
    adapter = SendGridAdapter()
    adapter.subuser = subuser
    (event,) = raw_events(adapter, orjson.dumps([value]))
    assert "account_id" not in event  # nothing of ours in the payload
    return event


def mailgun(changes: dict[str, Any] | None = None, name: str = "anymail-delivered.json") -> Any:
    payload = orjson.loads((REAL / "mailgun" / name).read_bytes())
    payload["event-data"].update(changes or {})
    (event,) = raw_events(MailgunAdapter(), orjson.dumps(payload))
    return event


def ses(name: str = "event-complaint.json") -> dict[str, Any]:
    (event,) = raw_events(SesAdapter(), (REAL / "ses" / name).read_bytes())
    return event


def resolve(yaml_map: dict[str, Any], event: dict[str, Any], owners: Any = None) -> str | None:
    return parse_account_map(yaml_map, "map").resolve(event, owners or {})


# --- SendGrid ------------------------------------------------------------------------------


def test_sendgrid_subuser_from_the_webhook_endpoint() -> None:
    event = sendgrid(subuser="acme-sub")
    assert event["subuser"] == "acme-sub"
    assert resolve({"sendgrid": {"subuser": {"acme-sub": "AC1"}}}, event) == "AC1"
    assert resolve({"sendgrid": {"subuser": {"other": "AC1"}}}, event) is None
    assert "subuser" not in sendgrid()  # no --subuser: nothing invented


def test_sendgrid_ip_pool() -> None:
    event = sendgrid({"pool": {"name": "pool-acme", "id": 210}})
    assert event["ip_pool"] == "pool-acme"
    assert resolve({"sendgrid": {"ip_pool": {"pool-acme": "AC2"}}}, event) == "AC2"


def test_sendgrid_category_any_of_the_events_categories() -> None:
    event = sendgrid()  # the sample's categories: ["tag1", "tag2"]
    assert resolve({"sendgrid": {"category": {"tag2": "AC3"}}}, event) == "AC3"
    assert resolve({"sendgrid": {"category": {"tag9": "AC3"}}}, event) is None


def test_sendgrid_unique_arg_whose_value_is_the_account() -> None:
    event = sendgrid()  # the sample's unique args: custom1=value1, custom2=value2
    assert event["custom_args"]["custom2"] == "value2"
    assert resolve({"sendgrid": {"unique_arg": ["custom2"]}}, event) == "value2"
    assert resolve({"sendgrid": {"unique_arg": ["tenant"]}}, event) is None


def test_sendgrid_sending_ip_from_the_map() -> None:
    event = sendgrid({"ip": "198.51.100.30"})
    assert resolve({"sender_ip": {"198.51.100.30": "AC4"}}, event) == "AC4"


# --- Mailgun -------------------------------------------------------------------------------


def test_mailgun_domain_from_domain_name() -> None:
    event = mailgun({"domain": {"name": "MG.Acme.example"}})
    assert event["domain"] == "mg.acme.example"
    assert resolve({"mailgun": {"domain": {"mg.acme.example": "AC5"}}}, event) == "AC5"


def test_mailgun_domain_from_an_older_payloads_storage_url() -> None:
    event = mailgun()  # storage.url .../v3/domains/example.org/messages/...
    assert event["domain"] == "example.org"
    assert resolve({"mailgun": {"domain": {"example.org": "AC6"}}}, event) == "AC6"


def test_mailgun_account_is_mapped_never_taken_as_the_customer() -> None:
    event = mailgun({"account": {"id": "5f1e0c"}})
    assert "account_id" not in event
    assert event["mailgun_account"] == "5f1e0c"
    assert resolve({"mailgun": {"account": {"5f1e0c": "AC7"}}}, event) == "AC7"


def test_mailgun_tags_and_user_variables() -> None:
    event = mailgun({"tags": ["acme", "newsletter"], "user-variables": {"tenant": "AC8"}})
    assert resolve({"mailgun": {"tag": {"acme": "AC9"}}}, event) == "AC9"
    assert resolve({"mailgun": {"variable": ["tenant"]}}, event) == "AC8"


def test_mailgun_sending_ip_and_domain_from_the_registry() -> None:
    event = mailgun()  # envelope.sending-ip 333.123.123.200 (as in the sample)
    assert resolve({}, event, {("ip", "333.123.123.200"): "AC10"}) == "AC10"
    assert resolve({}, event, {("domain", "example.org"): "AC11"}) == "AC11"


# --- SES -----------------------------------------------------------------------------------


def test_ses_configuration_set_source_arn_and_tags() -> None:
    event = ses()
    assert resolve({"ses": {"configuration_set": {"ConfigSet": "AC12"}}}, event) == "AC12"
    arn = "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com"
    assert event["source_arn"] == arn
    assert resolve({"ses": {"source_arn": {arn: "AC13"}}}, event) == "AC13"
    # a message tag whose value is the account id (here SES's caller identity tag)
    assert resolve({"ses": {"tag": ["ses:caller-identity"]}}, event) == "ses_user"


# --- order, sender, file -------------------------------------------------------------------


def test_provider_keys_before_sender_domain_before_registry() -> None:
    event = sendgrid({"ip": "198.51.100.30"}, subuser="acme-sub")
    full = {
        "sendgrid": {"subuser": {"acme-sub": "by-subuser"}},
        "sender_ip": {"198.51.100.30": "by-ip"},
    }
    owners = {("ip", "198.51.100.30"): "by-registry"}
    assert resolve(full, event, owners) == "by-subuser"
    assert resolve({"sender_ip": full["sender_ip"]}, event, owners) == "by-ip"
    assert resolve({}, event, owners) == "by-registry"
    assert resolve({}, event, {}) is None


def test_arf_sender_domain_from_the_map() -> None:
    complaint = {"id": "arf:1", "original_mail_from": "News <news@Acme.example>"}
    assert resolve({"sender_domain": {"acme.example": "AC14"}}, complaint) == "AC14"


def test_the_map_file(tmp_path: Path) -> None:
    assert load_account_map(None) == AccountMap()
    assert load_account_map(tmp_path / "absent.yaml") == AccountMap()
    path = tmp_path / "account_map.yaml"
    path.write_text(
        "sendgrid:\n  subuser: {acme-sub: AC1}\nmailgun:\n  domain: {mg.a.example: AC2}\n"
    )
    loaded = load_account_map(path)
    assert loaded.tables[("sendgrid", "subuser")] == {"acme-sub": "AC1"}
    assert loaded.tables[("mailgun", "domain")] == {"mg.a.example": "AC2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "must be a mapping"),
        ("postmark: {}\n", "unknown section 'postmark'"),
        ("sendgrid:\n  pool: {a: b}\n", "sendgrid.pool is not one of subuser, ip_pool"),
        ("mailgun:\n  domain: {a: 1}\n", "mailgun.domain must map values to account ids"),
        ("sendgrid: [a]\n", "sendgrid must be a mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_map_file_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "account_map.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_account_map(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
