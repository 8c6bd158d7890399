"""enrich(event): every event type, the field contract, the SMS corpus, odd input, no network."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
import tldextract

import abusedesk.enrich as enrich_pkg
from abusedesk.enrich import Enricher, enrich, urls
from abusedesk.enrich.body_cache import text_fields
from abusedesk.enrich.delivery import error_class
from abusedesk.enrich.email import auth_results, header_fields, sender_fields
from abusedesk.enrich.fields import ENRICHED_FIELDS
from abusedesk.enrich.fingerprint import template_fp
from abusedesk.enrich.phone import classify_number, sender_kind
from abusedesk.enrich.risk_table import load_risk_table, parse_risk_table
from abusedesk.enrich.time import zone_name
from abusedesk.enrich.urls import default_shorteners, find_links, link_fields, parse_host
from abusedesk.events.schema import Event

from .conftest import event, sms

CORPUS = Path(
    os.environ.get("ABUSEDESK_SMS_CORPUS", "/work/shared/data/sms-spam-collection/train.tsv")
)
ROOT = Path(__file__).parents[2]
_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "num": (int, float),
    "bool": (bool,),
    "strlist": (list,),
}


def assert_contract(fields: dict[str, Any]) -> None:
    """Only ENRICHED_FIELDS names, each value of its declared kind (None is never emitted)."""
    for name, value in fields.items():
        assert name in ENRICHED_FIELDS, name
        kind = ENRICHED_FIELDS[name][0]
        assert isinstance(value, _KIND_TYPES[kind]), (name, value)
        if kind == "int":
            assert not isinstance(value, bool), name
        if isinstance(value, list):
            assert all(isinstance(item, str) for item in value), name


# --- the examples of docs/events.md -----------------------------------------------------------


def test_events_md_message(enricher: Enricher) -> None:
    fields = enricher.enrich(sms("+37122345678", "Your code is 482913", ts="2026-03-01T09:05:00Z"))
    assert fields == {
        "hour_utc": 9,
        "counterparty": "+37122345678",
        "to_valid": True,
        "to_country": "LV",
        "to_type": "mobile",
        "to_prefix": "+3712234",
        "to_cost_tier": "standard",
        "local_hour": 11,
        "is_quiet_hours": False,
        "from_kind": "e164",
        "from_country": "US",
        "url_count": 0,
        "has_url": False,
        "url_domains": [],
        "has_shortener": False,
        "has_punycode": False,
        "has_ip_url": False,
        "template_fp": "a922b5b64e8b50b1",
        "phishing_lure": False,
        "is_otp_like": True,
    }


def test_events_md_delivery_account_verification_report(enricher: Enricher) -> None:
    delivery = event("delivery", message_id="SM1", status="undelivered", error_code="30005")
    assert enricher.enrich(delivery) == {
        "hour_utc": 12,
        "is_failure": True,
        "error_class": "invalid_number",
    }
    account = event("account", action="signup", email="ops@newco.example", country="US")
    assert enricher.enrich(account) == {
        "hour_utc": 12,
        "from_kind": "email",
        "from_domain": "newco.example",
        "from_registered_domain": "newco.example",
        "from_freemail": False,
    }
    verification = event("verification", verification_id="VE1", stage="start", to="+2348031234567")
    fields = enricher.enrich(verification)
    assert fields["to_country"] == "NG"
    assert fields["to_cost_tier"] == "high"
    assert fields["local_hour"] == 13  # Lagos, UTC+1
    report = event(
        "report", report_id="R1", reporter="carrier", category="phishing", target="+15005550006"
    )
    assert enricher.enrich(report) == {"hour_utc": 12, "from_kind": "e164", "from_country": "US"}


# --- every type ------------------------------------------------------------------------------


def test_phishing_sms(enricher: Enricher) -> None:
    body = "USPS: your parcel is on hold. Pay the redelivery fee: usps-redelivery.top/pay or bit.ly/3xYz"
    fields = enricher.enrich(sms("+14155552671", body, from_="ACME", ts="2026-01-15T11:00:00Z"))
    assert fields["url_domains"] == ["usps-redelivery.top", "bit.ly"]
    assert fields["first_url_domain"] == "usps-redelivery.top"
    assert fields["lookalike_brand"] == "usps"
    assert fields["has_shortener"] is True
    assert fields["phishing_lure"] is True
    assert fields["from_kind"] == "alphanumeric"
    assert (fields["local_hour"], fields["is_quiet_hours"]) == (3, True)


def test_email_message(enricher: Enricher) -> None:
    headers = {
        "Authentication-Results": "amazonses.com; spf=pass smtp.mailfrom=news.shop.example; "
        "dkim=pass header.i=@shop.example; dmarc=fail header.from=gmail.com",
        "List-Unsubscribe": "<https://shop.example/u/1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = event(
        "message",
        message_id="E1",
        channel="email",
        from_="Deals <deals@gmail.com>",
        to="Jane <jane@yahoo.co.uk>",
        subject="Happy hour tonight",
        body="Hi Jane, 2-for-1 cocktails until 8pm.",
        headers=headers,
    )
    fields = enricher.enrich(message)
    assert fields["from_domain"] == "gmail.com"
    assert fields["from_freemail"] is True
    assert fields["to_domain"] == "yahoo.co.uk"
    assert fields["to_freemail"] is True
    assert (fields["spf"], fields["dkim"], fields["dmarc"]) == ("pass", "pass", "fail")
    assert fields["has_one_click_unsubscribe"] is True
    assert fields["prohibited_category"] == "alcohol"  # from the subject and the body
    assert "to_valid" not in fields
    assert "local_hour" not in fields
    # Subject and body make one template: a different name gives the same fingerprint.
    other = event("message", message_id="E2", channel="email", from_="deals@gmail.com",
                  to="sam@yahoo.co.uk", subject="Happy hour tonight",
                  body="Hi Sam, 2-for-1 cocktails until 8pm.")  # fmt: skip
    assert enricher.enrich(other)["template_fp"] == fields["template_fp"]


def test_call(enricher: Enricher) -> None:
    call = event(
        "call", call_id="CA1", from_="+442079460000", to="+449012345678", status="completed"
    )
    fields = enricher.enrich(call)
    assert fields["to_type"] == "premium_rate"
    assert fields["to_cost_tier"] == "high"
    assert fields["from_country"] == "GB"
    assert "template_fp" not in fields


def test_opt_out(enricher: Enricher) -> None:
    fields = enricher.enrich(
        event("opt_out", recipient="+37122345678", sender="12345", keyword="STOP")
    )
    assert fields["to_country"] == "LV"
    assert fields["from_kind"] == "short_code"
    assert "local_hour" not in fields  # no message goes to the recipient


def test_delivery_and_complaint_recipients(enricher: Enricher) -> None:
    bounce = event("delivery", message_id="m", status="bounced", bounce_type="permanent",
                   error_code="smtp; 550 5.1.1 user unknown", recipient="jane@gmail.com")  # fmt: skip
    assert enricher.enrich(bounce) == {
        "hour_utc": 12,
        "is_failure": True,
        "is_hard_bounce": True,
        "error_class": "invalid_number",
        "to_domain": "gmail.com",
        "to_freemail": True,
        "counterparty": "jane@gmail.com",
    }
    sms_dlr = event("delivery", message_id="m", status="delivered", recipient="+37122345678")
    assert enricher.enrich(sms_dlr)["to_prefix"] == "+3712234"
    redacted = event("complaint", source="fbl", recipient="redacted")
    assert enricher.enrich(redacted) == {"hour_utc": 12}


def test_account_website_is_read_as_a_link(enricher: Enricher) -> None:
    account = event("account", action="signup", email="x@proton.me", website="paypa1-support.com")
    fields = enricher.enrich(account)
    assert fields["from_freemail"] is True
    assert fields["first_url_domain"] == "paypa1-support.com"
    assert fields["lookalike_brand"] == "paypal"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://secure-paypal.top/login", {"first_url_domain": "secure-paypal.top", "lookalike_brand": "paypal"}),
        ("bit.ly/3xYz", {"first_url_domain": "bit.ly", "has_shortener": True}),
        ("spammer@mail.example.com", {"from_domain": "mail.example.com", "from_registered_domain": "example.com"}),
        ("+2348031234567", {"from_kind": "e164", "from_country": "NG"}),
        ("12345", {"from_kind": "short_code"}),
        ("ACME", {"from_kind": "alphanumeric"}),
        ("", {}),
    ],
)  # fmt: skip
def test_report_targets(enricher: Enricher, target: str, expected: dict[str, Any]) -> None:
    fields = enricher.enrich(
        event("report", report_id="R1", reporter="user", category="spam", target=target)
    )
    assert expected.items() <= fields.items()
    assert_contract(fields)


def test_a_custom_risk_table() -> None:
    table = parse_risk_table("country_or_prefix,tier,reason,source\n+3712,high,pumping,desk\n", "t")
    fields = Enricher(table).enrich(sms("+37122345678"))
    assert fields["to_cost_tier"] == "high"


def test_returned_lists_are_the_callers_own(enricher: Enricher) -> None:
    first = enricher.enrich(sms("+37122345678", "see bit.ly/abc"))
    first["url_domains"].append("tampered")
    first["has_url"] = "tampered"
    again = enricher.enrich(sms("+37122345678", "see bit.ly/abc"))
    assert again["url_domains"] == ["bit.ly"]
    assert again["has_url"] is True


# --- robustness ---------------------------------------------------------------------------


def _odd_events() -> list[Event]:
    ts = event("message", message_id="m", channel="sms", from_="x", to="y").ts
    huge = "Win £1000 now at bit.ly/x " * 100_000  # 2.6 MB body
    return [
        sms("+37122345678", huge),
        sms("", "", from_=""),
        sms("whatsapp:", "\x00\ud800 broken surrogate", from_="+"),
        sms("+" + "9" * 50, "ok", from_="@@@"),
        sms("a@b@c", "x" * 10, from_="<>"),
        Event("e", "message", ts, "A", {"to": 5, "from": None, "body": ["x"], "headers": "x"}),
        Event("e", "message", ts.replace(tzinfo=None), "A", {"to": "+37122345678"}),
        Event("e", "delivery", ts, "A", {"status": 1, "error_code": {"a": 1}, "recipient": 3}),
        Event("e", "report", ts, None, {"target": "http://[::1"}),
        Event("e", "account", ts, "A", {"email": "@", "website": "http://"}),
        Event("e", "unknown_type", ts, "A", {}),
    ]


def test_odd_input_never_raises_and_keeps_the_contract(enricher: Enricher) -> None:
    before = enricher.failures
    for odd in _odd_events():
        fields = enricher.enrich(odd)
        assert "hour_utc" in fields
        assert_contract(fields)
    assert enricher.failures == before  # handled, not swallowed


def test_a_bug_inside_is_counted_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = Enricher()

    def broken(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(fresh, "_handlers", {"message": broken})
    assert fresh.enrich(sms("+37122345678")) == {"hour_utc": 12}
    assert fresh.failures == 1
    bad_ts = Event("e", "message", "not a datetime", "A", {})  # type: ignore[arg-type]
    assert fresh.enrich(bad_ts) == {}


def test_a_bug_halfway_leaves_the_row_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """enrich_into writes into the engine's row; a handler that fails after writing some
    fields must leave the row's own fields and only hour_utc."""
    fresh = Enricher()

    def halfway(_data: object, _ts: object, out: dict[str, object]) -> None:
        out["to_country"] = "LV"
        out["counterparty"] = "+37122345678"
        raise RuntimeError("bug")

    monkeypatch.setattr(fresh, "_handlers", {"message": halfway})
    row: dict[str, object] = {"id": "e1", "type": "message", "to": "+37122345678"}
    fresh.enrich_into(sms("+37122345678"), row)
    assert row == {"id": "e1", "type": "message", "to": "+37122345678", "hour_utc": 12}
    assert fresh.failures == 1
    # A row that already held enrichment names (as None), as the detection engine's do.
    full: dict[str, object] = {"id": "e1", "to_country": None, "counterparty": None}
    fresh.enrich_into(sms("+37122345678"), full)
    assert full == {"id": "e1", "to_country": None, "counterparty": None, "hour_utc": 12}
    assert fresh.failures == 2
    plain = Enricher()
    event = sms("+37122345678")
    into: dict[str, object] = {"id": "x"}
    plain.enrich_into(event, into)
    assert into == {"id": "x", **plain.enrich(event)}


# --- the SMS Spam Collection ---------------------------------------------------------------


def _corpus() -> list[tuple[str, str]]:
    if not CORPUS.exists():
        pytest.skip(f"SMS Spam Collection not found at {CORPUS} (set ABUSEDESK_SMS_CORPUS)")
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[1:]
    return [(label, text) for label, _, text in (line.partition("\t") for line in lines)]


def test_every_message_of_the_sms_spam_collection(enricher: Enricher) -> None:
    rows = _corpus()
    destinations = (
        "+447400123456",
        "+14155552671",
        "+6591234567",
        "+2348031234567",
        "+37122345678",
    )
    senders = ("+447700900123", "85069", "FreeMsg", "promo@shop.example")
    before = enricher.failures
    seen: dict[str, list[dict[str, Any]]] = {"ham": [], "spam": []}
    for i, (label, text) in enumerate(rows):
        fields = enricher.enrich(
            sms(destinations[i % len(destinations)], text, from_=senders[i % len(senders)])
        )
        assert_contract(fields)
        seen[label].append(fields)
    assert enricher.failures == before
    assert len(seen["ham"]) + len(seen["spam"]) == len(rows) > 4000

    def share(label: str, name: str) -> float:
        return sum(bool(f.get(name)) for f in seen[label]) / len(seen[label])

    # Spam links and flags far more than ham; ham (personal texts) is almost never prohibited.
    assert share("spam", "has_url") > 10 * share("ham", "has_url")
    assert share("ham", "prohibited_category") < 0.01
    assert share("ham", "is_otp_like") < 0.005
    # Spot checks.
    first_spam = next(text for label, text in rows if label == "spam")
    fields = enricher.enrich(sms("+447400123456", first_spam))
    assert first_spam.startswith("Free entry in 2 a wkly comp")
    assert fields["has_url"] is False
    assert fields["is_otp_like"] is False
    porn = next(text for label, text in rows if "XXX pics" in text)
    assert enricher.enrich(sms("+447400123456", porn))["prohibited_category"] == "sex"
    linked = next(text for label, text in rows if "www.txttowin.co.uk" in text.lower())
    assert "txttowin.co.uk" in enricher.enrich(sms("+447400123456", linked))["url_domains"]


# --- no network -------------------------------------------------------------------------------


def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build everything from scratch with sockets disabled, then exercise every path."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("enrichment tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)

    # The suffix list: tldextract with no URLs and no cache directory uses its bundled copy.
    fresh = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    assert fresh("www.bbc.co.uk").suffix == "co.uk"
    urls.extractor.cache_clear()
    enrich_pkg.cache_clear()

    enricher = Enricher()
    for odd in _odd_events():
        enricher.enrich(odd)
    headers = {"Authentication-Results": "mx; spf=pass; dkim=pass; dmarc=pass"}
    samples = [
        sms("+37122345678", "Your code is 482913"),
        sms("+14155552671", "Verify: xn--pypal-4ve.com/x http://10.0.0.1/a bit.ly/z paypa1.com"),
        event("message", message_id="m", channel="email", from_="a@gmail.com", to="b@c.example",
              subject="s", body="hi", headers=headers),
        event("delivery", message_id="m", status="bounced", error_code="5.1.1", recipient="a@b.co"),
        event("opt_out", recipient="+37122345678", sender="ACME"),
        event("verification", verification_id="v", stage="start", to="+79161234567"),
        event("call", call_id="c", from_="+15005550006", to="+61412345678"),
        event("account", action="signup", email="a@newco.example", website="https://newco.example"),
        event("report", report_id="r", reporter="user", category="spam", target="paypa1.com"),
        event("complaint", source="fbl", recipient="a@b.example"),
    ]  # fmt: skip
    for sample in samples:
        assert enricher.enrich(sample)["hour_utc"] == 12
    assert enrich(samples[0])["to_country"] == "LV"
    # The module functions on their own, each on input its caches have not seen.
    assert classify_number("+4407400123456").valid  # the phonenumbers.parse fallback
    assert zone_name(classify_number("+61412345678")) == "Australia/Sydney"
    assert sender_kind("ACME") == "alphanumeric"
    assert sender_fields("a@yahoo.fr")["from_freemail"] is True
    assert header_fields(headers)["spf"] == "pass"
    assert auth_results({"Authentication-Results": "x; dkim=fail"}) == {"dkim": "fail"}
    assert parse_host("a.b.example.co.uk").registered == "example.co.uk"
    shorteners = default_shorteners()
    links = find_links("see rnicrosoft-login.top/x", shorteners)
    assert link_fields(links, shorteners)["lookalike_brand"] == "microsoft"
    assert template_fp("Your code is 123456") == "a922b5b64e8b50b1"
    assert text_fields("Casino night! bit.ly/q")["prohibited_category"] == "gambling"
    assert error_class("30007") == "filtered"
    assert load_risk_table(None).tier("2348031234567", "NG", "mobile") == "high"
    assert enricher.failures == 0


# --- docs ---------------------------------------------------------------------------------------


def test_every_enriched_field_is_documented() -> None:
    doc = (ROOT / "docs" / "enrichment.md").read_text(encoding="utf-8")
    missing = [name for name in ENRICHED_FIELDS if f"`{name}`" not in doc]
    assert missing == []


def test_counterparty_joins_an_opt_out_to_later_sends() -> None:
    from abusedesk.enrich import enrich
    from abusedesk.events.schema import validate_event

    base = {"ts": "2026-03-02T12:00:00Z", "account_id": "AC1"}
    stop = validate_event({**base, "id": "o", "type": "opt_out", "recipient": "+13055550123"})
    send = validate_event(
        {
            **base,
            "id": "m",
            "type": "message",
            "message_id": "SM1",
            "channel": "sms",
            "from": "+13055550100",
            "to": "+13055550123",
        }
    )
    reply = validate_event(
        {
            **base,
            "id": "r",
            "type": "message",
            "message_id": "SM2",
            "channel": "sms",
            "direction": "inbound",
            "from": "+13055550123",
            "to": "+13055550100",
        }
    )
    assert enrich(stop)["counterparty"] == enrich(send)["counterparty"] == "+13055550123"
    assert enrich(reply)["counterparty"] == "+13055550123"


def test_android_sms_retriever_messages_are_passcodes() -> None:
    from abusedesk.enrich import enrich
    from abusedesk.events.schema import validate_event

    event = validate_event(
        {
            "id": "m",
            "type": "message",
            "ts": "2026-03-02T12:00:00Z",
            "account_id": "AC1",
            "message_id": "SM1",
            "channel": "sms",
            "from": "+13055550100",
            "to": "+13055550123",
            "body": "<#> Orbitbank: use 876041 to sign in. FA+9qCX9VSu",
        }
    )
    assert enrich(event)["is_otp_like"] is True


def test_the_path_masked_cache_gives_exactly_the_full_analysis() -> None:
    """Texts that differ only in link paths share their link and template analysis; the result
    must equal a full analysis of each text (personalised links are the common case)."""
    from pathlib import Path

    from abusedesk.enrich.body import analyse
    from abusedesk.enrich.body_cache import cache_clear, text_fields

    texts = [
        "Your order shipped: https://bluecart.es/t/p74Q6r track it",
        "Your order shipped: https://bluecart.es/t/Zx81Qa track it",
        "Verify now https://bit.ly/AbC/def?x=1 or lose access",
        "go to www.paypa1-login.com/verify/acct today",
        "https://a.com/r?u=https://evil.xn--pypal-4ve.com/x",
        "1/2 and/or e.g./x, CBD gummies at shop.example/cbd-gummies",
        "Hi Maria, 20% off at https://shop.example.co.uk/s/maria-2291?c=spring",
    ]
    corpus = Path("/work/shared/data/sms-spam-collection/train.tsv")
    if corpus.exists():
        texts += [line.split("\t", 1)[1] for line in corpus.read_text().splitlines()[1:]]
    cache_clear()
    for text in texts:
        assert dict(text_fields(text)) == analyse(text), text
