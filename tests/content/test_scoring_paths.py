"""The fast scoring paths against their plain definitions, and the content shadow rules in the
default playbook, without effect (tests/api/test_decisions_content.py: the same scores in
streaming, the decision API and backtests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from abusedesk.content.documents import Document, email_key, event_document, mail_document
from abusedesk.content.header_tokens import header_tokens
from abusedesk.content.mime import Mail
from abusedesk.content.normalize import (
    MAX_MODEL_CHARS,
    model_key,
    normalize,
    normalize_plain,
    token_key,
)
from abusedesk.content.scorer import shipped_scorer
from abusedesk.detection.engine import DetectionEngine, default_pack_path
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event

TEXTS = [
    "URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Txt CLAIM to 81010",
    "Your Cedarhome order X6318202 has shipped. Track it at https://cedarhome.de/e/MXz4TD",
    'Verify at https://microsoft-billing-9.com/H5QO5ZhbJO?id=77#top now or http://a.co/x"y',
    "mail me: bob.7@example.org/x, see www.win-big4.com/claim/123 or bit.ly/3xYz9 ok",
    "https://user@host.example/path https://x.io/<b> https:///x http://y.net?q=1 https://z.uk#f",
    "٣٤٥ digits that are not ASCII ١٢ https://x.y/١٢",
    "",
    "a" * 7000 + " https://cut.example/in/the/middle/of/a/link",
    "see:https://x.co/p1 (https://y.co/q?z=1) https://ok.io/Ab3 xhttps://z.io/a\thttp://w.io#9",
    "https://a.io/x https://b.io/y\u00a0next https://c.io/z,",
]


@pytest.mark.parametrize("text", TEXTS)
def test_normalize_with_its_caches_and_key_is_the_plain_definition(text: str) -> None:
    assert normalize(text) == normalize_plain(text)
    assert normalize(model_key(text)) == normalize_plain(text)


def test_model_key_cuts_the_links_token_key_cuts_and_only_those() -> None:
    for full in TEXTS:
        text = full[:MAX_MODEL_CHARS]
        expected = " ".join(token_key(t) for t in text.translate(DIGITS).split())
        assert " ".join(model_key(text).split()) == expected


EMAILS = [
    {"subject": "Your order X1234 shipped", "body": "Hi Ana, track it: https://shop.io/t/9Zq1"},
    {"subject": "Your order Y9876 shipped", "body": "Hi Ana, track it: https://shop.io/t/Pz07"},
    {"subject": "YOUR ORDER SHIPPED", "body": "Hi Ana, track it: https://shop.io/t/Pz07"},
    {"subject": "Your order shipped https://shop.io/ABCDEFGHIJ", "body": "Hi"},
    {"subject": "Your order shipped https://shop.io/abcdefghij", "body": "Hi"},
    {"subject": "", "body": "Only a body 12"},
    {"subject": "Only a subject 34", "body": ""},
]
HEADERS = [
    None,
    {"Authentication-Results": "mx; spf=pass smtp.mailfrom=shop.io; dkim=pass header.d=shop.io"},
    {"Authentication-Results": "mx; spf=fail smtp.mailfrom=shop.io"},
    {"Reply-To": "claims@elsewhere.example"},
    {"List-Unsubscribe": "<https://shop.io/u/7604b095f1d5>", "Message-ID": "<1@shop.io>"},
    {"List-Unsubscribe": "<https://shop.io/u/ee7535cd4b3f>", "Message-ID": "<2@shop.io>"},
    {"Received": "from a by b", "received": "from c by d", "X-Mailer": "Bulkmail 2"},
    {"Received": "from e by f", "received": "from g by h", "X-Mailer": "Bulkmail 2"},
    {"User-Agent": "Thunderbird", "Reply-To": "help@shop.io"},
    {"User-Agent": "Mutt", "Received-SPF": "softfail (domain of x)"},
]


def test_emails_with_equal_keys_have_equal_documents() -> None:
    documents: dict[tuple[object, ...], Document] = {}
    events = [
        {"channel": "email", **fields, "headers": headers, "from": sender}
        for fields in EMAILS
        for headers in HEADERS
        for sender in ("no-reply@shop.io", "win@prize.top", None)
    ]
    for data in events:
        key = email_key(data)
        assert key is not None
        found = event_document(data)
        assert found is not None
        assert documents.setdefault(key, found[1]) == found[1]
    assert len(documents) < len(events)  # digits, link paths, unread header values share keys
    unsubscribe = [email_key({**EMAILS[0], "channel": "email", "headers": h}) for h in HEADERS[4:6]]
    assert unsubscribe[0] == unsubscribe[1]


def test_emails_the_key_does_not_cover_take_the_full_path() -> None:
    for data in [
        {"channel": "email", "subject": "=?utf-8?q?Hi?=", "body": "x"},
        {"channel": "email", "subject": "Hi", "body": "<html><p>x</p></html>"},
        {
            "channel": "email",
            "subject": "Hi",
            "body": "x",
            "headers": [{"name": "a", "value": "b"}],
        },
        {"channel": "email", "body": "no subject"},
    ]:
        assert email_key(data) is None
    scorer = shipped_scorer()
    data = {"channel": "email", "subject": "Hi", "body": "<html><p>WIN cash</p></html>"}
    model = scorer.model("email")
    assert model is not None
    found = event_document(data)
    assert found is not None
    assert scorer(data) == round(model.score(found[1]), 6)


def test_token_key_only_cuts_inert_link_paths() -> None:
    assert token_key("https://shop.example/t/Xy12Ab") == "https://shop.example/"
    assert token_key("http://x.co?a=1") == "http://x.co/"
    for kept in ("https://a@b.com/x", "https:///x", 'https://h.io/a"b', "www.x.com/abc", "zz"):
        assert token_key(kept) == kept


def test_mail_document_is_the_normalized_subject_and_text_together() -> None:
    for subject, text in [("Hi", "there https://x.io/1"), ("", "body"), ("Subj", ""), ("", "")]:
        mail = Mail(subject=subject, text=text, plain=True)
        assert mail_document(mail).text == normalize_plain(f"{subject}\n{text}")


def test_header_tokens_are_the_same_from_the_cache() -> None:
    headers = {
        "authentication-results": ["mx; spf=fail smtp.mailfrom=x.top; dkim=pass header.d=x.top"],
        "from": ["Promo <info@x.top>"],
        "reply-to": ["claims@elsewhere.example"],
    }
    first = header_tokens(Mail(headers=headers, subject="FREE MONEY NOW", html=True))
    again = header_tokens(Mail(headers=dict(headers), subject="free money now", plain=True))
    assert "h:spf=fail" in first
    assert "h:reply-to-elsewhere" in first
    assert "h:html-only" in first
    assert "h:subject-caps" in first
    assert [t for t in again if t not in ("h:html-only", "h:subject-caps")] == [
        t for t in first if t not in ("h:html-only", "h:subject-caps")
    ]
    assert "h:html-only" not in again
    assert "h:subject-caps" not in again


def test_one_message_scores_as_scikit_learn_predicts() -> None:
    scorer = shipped_scorer()
    for channel, data in [
        ("sms", [{"channel": "sms", "body": t} for t in TEXTS if t]),
        (
            "email",
            [
                {"channel": "email", "subject": t[:60], "body": t, "from": "a@b.example"}
                for t in TEXTS
                if t
            ],
        ),
    ]:
        model = scorer.model(channel)  # type: ignore[arg-type]
        assert model is not None
        docs: list[Document] = []
        for item in data:
            found = event_document(item)
            assert found is not None
            docs.append(found[1])
        docs.append(Document(""))  # no features at all: the intercept alone
        matrix = model.featurizer.transform([d.text for d in docs], [d.extra for d in docs])
        expected = model.classifier.predict_proba(matrix)[:, 1]
        fast = np.array([model.score(d) for d in docs])
        np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(model.scores(docs), expected, rtol=0, atol=1e-12)


DIGITS = str.maketrans("123456789", "000000000")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LURE = "USPS: your parcel {c} is held, pay the £1.99 fee within 24h: https://usps-fee{d}.com/p/{c}"


def signups(accounts: tuple[str, ...], before: timedelta) -> list[Event]:
    return [Event(f"s-{a}", "account", T0 - before, a, {"action": "signup"}) for a in accounts]


def lure_events(prefix: str = "ring") -> list[Event]:
    events = []
    for i in range(24):
        data = {
            "message_id": f"m{prefix}{i}",
            "channel": "sms",
            "direction": "outbound",
            "from": f"+1555010{i % 6:04d}",
            "to": f"+1555020{i:04d}",
            "body": LURE.format(c=f"RX{4000 + i}", d=i % 3),
        }
        events.append(
            Event(
                f"e{prefix}{i:02d}", "message", T0 + timedelta(minutes=i), f"{prefix}{i % 3}", data
            )
        )
    return events


def test_content_rules_are_shadow_rules_of_the_default_playbook_and_change_no_verdict() -> None:
    pack = CompiledPack.load(default_pack_path())
    content = [r for r in pack.rules if "spam_score" in r.spec.when]
    assert {r.spec.id for r in content} == {"content-model-spam", "spam-campaign-across-accounts"}
    assert all(r.spec.mode == "shadow" for r in content)
    engine = DetectionEngine(pack)
    young = ("ring0", "ring1", "ring2")
    for signup in signups(young, timedelta(hours=3)):
        engine.evaluate(signup)
    verdicts = [engine.evaluate(e) for e in lure_events()]
    fired = {r.id for v in verdicts for r in v.matched}
    assert {"content-model-spam", "spam-campaign-across-accounts"} <= fired
    for verdict in verdicts:
        live = [r for r in verdict.matched if r.mode == "live"]
        if not live:
            assert verdict.decision == "allow"
            assert verdict.score == 0.0


def test_content_rules_leave_established_senders_alone() -> None:
    engine = DetectionEngine(CompiledPack.load(default_pack_path()))
    for signup in signups(("old0", "old1", "old2"), timedelta(days=400)):
        engine.evaluate(signup)
    verdicts = [engine.evaluate(e) for e in lure_events("old")]
    # No content rule could match them, so they are neither scored nor indexed (model_gate).
    assert all(v.row["spam_score"] is None for v in verdicts)
    assert all(v.row["campaign_accounts"] is None for v in verdicts)
    fired = {r.id for v in verdicts for r in v.matched}
    assert not fired & {"content-model-spam", "spam-campaign-across-accounts"}
