"""The ingest consumer that routes each batch's reports to cases after the batch commits."""

from __future__ import annotations

from collections.abc import Sequence

from abusedesk.cases.desk import Desk
from abusedesk.cases.reports import MessageOwner, RouteResult, do_route_reports
from abusedesk.clock import Clock
from abusedesk.events.schema import Event
from abusedesk.storage.db import Store


class ReportIntake:
    def __init__(
        self, store: Store, clock: Clock, desk: Desk, message_owner: MessageOwner | None = None
    ) -> None:
        self.store, self.clock, self.desk = store, clock, desk
        self.message_owner = message_owner
        self.last = RouteResult()

    def on_events(self, events: Sequence[Event]) -> None:
        reports = [e for e in events if e.type == "report"]
        if not reports:
            return
        contacts = {
            str(e.data["report_id"]): str(e.attrs["reporter_contact"])
            for e in reports
            if e.attrs and e.attrs.get("reporter_contact")
        }
        self.last = do_route_reports(
            self.store,
            self.clock,
            self.desk,
            report_ids=[str(e.data["report_id"]) for e in reports],
            contacts=contacts,
            message_owner=self.message_owner,
        )
