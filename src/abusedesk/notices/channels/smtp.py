"""Notices by email: one SMTP connection per delivery, text and HTML alternatives.

The delivery id goes out as the Message-ID, so a repeat after a lost answer is recognisable
(and threaded as the same message by mail clients).
"""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from email.policy import SMTP

from abusedesk.enforcement.delivery import Due, SendResult

_POLICY = SMTP.clone(max_line_length=998)


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str, *, timeout_s: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s

    def send(self, item: Due) -> SendResult:
        payload = item.payload
        # Lines up to RFC 5322's 998 characters: folding a long Subject right after its name
        # leaves a leading space in some readers.
        message = EmailMessage(policy=_POLICY)
        message["From"] = self.sender
        message["To"] = str(payload["to"])
        message["Subject"] = str(payload["subject"])
        domain = self.sender.rpartition("@")[2] or "abusedesk.invalid"
        message["Message-ID"] = f"<{item.delivery_id}@{domain}>"
        message["X-Abusedesk-Delivery"] = item.delivery_id
        message.set_content(str(payload["text"]))
        if payload.get("html"):
            message.add_alternative(str(payload["html"]), subtype="html")
        started = time.perf_counter()
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            return SendResult(
                False,
                exc.smtp_code,
                error=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                permanent=permanent,
                duration_ms=_ms(started),
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}", duration_ms=_ms(started))
        return SendResult(True, 250, duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
