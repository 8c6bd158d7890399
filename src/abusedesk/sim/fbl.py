"""Feedback-loop complaints that reach the desk before the message log, as ARF mail.

A mailbox provider's feedback loop reports a complaint minutes or hours after the mail was
read, as an ARF report (RFC 5965) that names the original's Message-ID, sender and source IP,
never the platform's customer. The platform's message log often arrives later (a nightly
export, a delayed webhook). So a share of the simulated FBL complaints (`EARLY_COMPLAINTS` by
default, `abusedesk sim generate --early-complaints`) is not written into events.jsonl with
its account: it goes to `complaints.mbox`, one ARF report per complaint without any account
header, which the demo and `abusedesk eval detection` take in before events.jsonl. The desk
must then link each one to its account when the message arrives (pipeline/linking.py).

Which complaints go early is decided by a hash of the message id, so it draws nothing from the
actors' random streams: the rest of the traffic is the same whatever the share (event ids, numbered in file order, shift).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import IO, Final

from abusedesk.sim.timeutil import from_epoch

EARLY_COMPLAINTS: Final = 0.3
COMPLAINTS_FILE: Final = "complaints.mbox"
# The domain SES writes into the Message-ID of the mail it sends (<id@email.amazonses.com>):
# the message log's message_id is the local part, which late linking also matches on.
MESSAGE_ID_DOMAIN: Final = "email.amazonses.com"
_BOUNDARY: Final = "fbl-report-boundary"


@dataclass(frozen=True, slots=True)
class EarlyComplaint:
    ts: int  # when the complaint was made (the report's Date)
    sent: int  # when the original was sent
    message_id: str  # the message log's message_id
    sender: str
    recipient: str
    subject: str
    source_ip: str
    redacted: bool  # the provider withheld the complainant


def goes_early(message_id: str, share: float) -> bool:
    """Whether the complaint about `message_id` reaches the desk before its message."""
    return share > 0 and zlib.crc32(message_id.encode()) < share * 2**32


def write_mbox(stream: IO[bytes], complaints: Iterable[EarlyComplaint]) -> int:
    """Append the complaints as ARF reports to an mbox, oldest first; returns how many."""
    n = 0
    for c in sorted(complaints, key=lambda c: (c.ts, c.message_id)):
        stream.write(render(c).encode())
        n += 1
    return n


def render(c: EarlyComplaint) -> str:
    """One ARF report as the provider's feedback loop mails it (an mbox entry)."""
    made = from_epoch(c.ts)
    provider = c.recipient.rsplit("@", 1)[1]
    rcpt = "redacted@" + provider if c.redacted else c.recipient
    stamp = made.strftime("%a %b %d %H:%M:%S %Y")
    date = format_datetime(made)
    digest = f"{zlib.crc32(c.message_id.encode()):08x}"
    lines = [
        f"From fbl@fbl.{provider} {stamp}",
        f"From: Feedback Loop <fbl@fbl.{provider}>",
        "To: fbl@platform.example",
        f"Date: {date}",
        f"Message-ID: <{digest}.{c.ts}@fbl.{provider}>",
        "Subject: Email Feedback Report",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=feedback-report; boundary="{_BOUNDARY}"',
        "",
        f"--{_BOUNDARY}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"This is an email abuse report for an email message received from IP {c.source_ip}.",
        "",
        f"--{_BOUNDARY}",
        "Content-Type: message/feedback-report",
        "",
        "Feedback-Type: abuse",
        f"User-Agent: {provider} FBL/1.0",
        "Version: 1",
        f"Original-Mail-From: <{c.sender}>",
        *([] if c.redacted else [f"Original-Rcpt-To: <{c.recipient}>"]),
        f"Reporting-MTA: dns; fbl.{provider}",
        f"Source-IP: {c.source_ip}",
        "",
        f"--{_BOUNDARY}",
        "Content-Type: text/rfc822-headers",
        "",
        f"From: {c.sender}",
        f"To: {rcpt}",
        f"Subject: {_one_line(c.subject)}",
        f"Date: {format_datetime(from_epoch(c.sent))}",
        f"Message-ID: <{c.message_id}@{MESSAGE_ID_DOMAIN}>",
        "",
        f"--{_BOUNDARY}--",
        "",
    ]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """A header value: one line, ASCII (non-ASCII as an RFC 2047 encoded word)."""
    flat = " ".join(text.split())[:200]
    if flat.isascii():
        return flat
    from email.header import Header

    return Header(flat, "utf-8").encode()
