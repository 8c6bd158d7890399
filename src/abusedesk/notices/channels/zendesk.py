"""Notices as Zendesk tickets (Tickets API, DOMAIN.md §4.4).

The customer is the requester and the notice the first public comment, which Zendesk mails to
them. Each ticket carries an external id; before creating one the channel looks it up, so a
repeat after a lost answer finds the ticket instead of opening a second. 429 answers are
retried after their Retry-After (delivery.result_of_http).
"""

from __future__ import annotations

import time

import httpx

from abusedesk.enforcement.delivery import Due, SendResult, result_of_http


class ZendeskChannel:
    def __init__(self, base_url: str, email: str, token: str, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(auth=(f"{email}/token", token), timeout=timeout_s)

    def send(self, item: Due) -> SendResult:
        payload = item.payload
        external_id = str(payload["external_id"])
        started = time.perf_counter()
        try:
            found = self.client.get(
                f"{self.base_url}/api/v2/tickets.json", params={"external_id": external_id}
            )
            if found.status_code != 200:
                return result_of_http(found.status_code, found.headers, found.text, started)
            if found.json().get("count", 0) > 0:
                return SendResult(
                    True, 200, duration_ms=int((time.perf_counter() - started) * 1000)
                )
            ticket = {
                "ticket": {
                    "subject": payload["subject"],
                    "comment": {"html_body": payload["html"] or payload["text"], "public": True},
                    "requester": {"email": payload["to"]},
                    "type": "incident",
                    "priority": "high",
                    "status": "pending",
                    "tags": payload.get("tags", []),
                    "external_id": external_id,
                }
            }
            created = self.client.post(f"{self.base_url}/api/v2/tickets.json", json=ticket)
        except httpx.HTTPError as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}")
        return result_of_http(created.status_code, created.headers, created.text, started)

    def close(self) -> None:
        self.client.close()
