"""Email parsing: real MIME decoded, hostile mail bounded (never a crash, never unbounded work)."""

from __future__ import annotations

import base64

from abusedesk.content.documents import email_document
from abusedesk.content.mime import Limits, parse_mail

MULTIPART = (
    b"""From: "Shop" <deals@example.com>
To: you@example.org
Subject: =?utf-8?B?R3JlYXQgZGVhbHMg4oKs?=
Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=example.com; dkim=none
Received: from a by b
Received: from c by d
Content-Type: multipart/alternative; boundary="XYZ"

preamble
--XYZ
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 prices =3D low
--XYZ
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

"""
    + base64.encodebytes(
        b'<html><style>p{}</style><p>Click <a href="http://win.example.net/x">here</a> &amp; win</p></html>'
    )
    + b"""
--XYZ
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--XYZ--
"""
)


def test_multipart_text_html_and_attachment_are_decoded() -> None:
    mail = parse_mail(MULTIPART)
    assert mail.subject == "Great deals €"
    assert "Café prices = low" in mail.text
    assert "http://win.example.net/x" in mail.text
    assert "& win" in mail.text
    assert "p{}" not in mail.text  # style dropped
    assert "JVBERi" not in mail.text  # attachment skipped unread
    assert mail.attachments == 1
    assert mail.html
    assert mail.plain
    assert len(mail.headers["received"]) == 2
    assert mail.defects == []


def test_header_tokens_carry_authentication_and_relays() -> None:
    document = email_document(MULTIPART)
    assert "h:spf=fail" in document.extra
    assert "h:dkim=none" in document.extra
    assert "h:relays=2" in document.extra
    assert "zurlz" in document.text


def nested(depth: int) -> bytes:
    message = b"Content-Type: text/plain\n\ninnermost words\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        message = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\n\n--"
            + boundary
            + b"\n"
            + message
            + b"\n--"
            + boundary
            + b"--\n"
        )
    return b"Subject: bomb\n" + message


def test_mime_bomb_of_deep_nesting_stops_at_the_depth_limit() -> None:
    mail = parse_mail(nested(5000), Limits(max_depth=8))
    assert "too-deep" in mail.defects
    assert "innermost" not in mail.text
    assert mail.parts <= 9
    shallow = parse_mail(nested(3), Limits(max_depth=8))
    assert "innermost words" in shallow.text
    assert shallow.defects == []


def test_mime_bomb_of_many_parts_stops_at_the_part_limit() -> None:
    parts = b"".join(b"--B\nContent-Type: text/plain\n\npart %d\n" % i for i in range(100_000))
    raw = b"Subject: many\nContent-Type: multipart/mixed; boundary=B\n\n" + parts + b"--B--\n"
    mail = parse_mail(raw, Limits(max_parts=50, max_bytes=10_000_000))
    assert "too-many-parts" in mail.defects
    assert mail.text.count("part ") <= 50
    assert "part 0" in mail.text


def test_huge_headers_and_oversized_messages_are_cut_not_refused() -> None:
    folded = b"X-Junk: a\n" + b"\tcontinued\n" * 500_000
    mail = parse_mail(b"Subject: hi\n" + folded + b"\nbody text\n", Limits(max_header_bytes=64_000))
    assert "header-too-large" in mail.defects
    assert mail.subject == "hi"
    assert len(mail.headers["x-junk"][0]) <= 8192 + 20
    many = b"".join(b"X-H%d: v\n" % i for i in range(5000)) + b"\nbody\n"
    assert "too-many-headers" in parse_mail(many, Limits(max_headers=100)).defects
    big = b"Subject: big\n\n" + b"word " * 1_000_000
    cut = parse_mail(big, Limits(max_bytes=100_000, max_text_chars=10_000))
    assert "message-truncated" in cut.defects
    assert len(cut.text) <= 10_000


def test_broken_encodings_decode_what_they_can() -> None:
    raw = (
        b"Subject: =?x-unknown?Q?caf=E9?= =?utf-8?B?####?=\n"
        b"Content-Type: text/plain; charset=no-such-charset\n"
        b"Content-Transfer-Encoding: base64\n\n"
        b"aGVsbG8gd29ybGQ=!!!@@@%%%\xff\xfe"
    )
    mail = parse_mail(raw)
    assert "hello world" in mail.text
    assert mail.subject.startswith("caf")
    bad_utf8 = parse_mail(b"Content-Type: text/plain; charset=utf-8\n\n\xff\xfe ok")
    assert "ok" in bad_utf8.text


def test_any_bytes_parse_without_raising() -> None:
    import random

    rng = random.Random(7)
    pieces = [b"--B\n", b"Content-Type: multipart/mixed; boundary=B\n", b"\n", b"=?utf-8?B?",
              b"Content-Transfer-Encoding: base64\n", b"\xff", b"<html>", b"Subject: x\n"]  # fmt: skip
    for _ in range(300):
        raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        document = email_document(raw)
        assert isinstance(document.text, str)
    assert email_document(b"").text == ""
