"""Every format adapter, registered in one place, in the order auto-detection tries them."""

from __future__ import annotations

from typing import Final

from abusedesk.errors import InputError
from abusedesk.events.adapters.base import Adapter
from abusedesk.events.adapters.jsonl import JsonlAdapter

# More specific formats first: a SES or SendGrid file is also JSON, an ARF mbox is also text.
ADAPTERS: Final[dict[str, type[Adapter]]] = {}


def register(adapter: type[Adapter]) -> type[Adapter]:
    ADAPTERS[adapter.name] = adapter
    return adapter


def _register_builtin() -> None:
    from abusedesk.events.adapters.arf import ArfAdapter
    from abusedesk.events.adapters.mailgun import MailgunAdapter
    from abusedesk.events.adapters.sendgrid import SendGridAdapter
    from abusedesk.events.adapters.ses import SesAdapter
    from abusedesk.events.adapters.twilio_csv import TwilioCsvAdapter

    for adapter in (
        SesAdapter,
        SendGridAdapter,
        MailgunAdapter,
        TwilioCsvAdapter,
        ArfAdapter,
        JsonlAdapter,
    ):
        register(adapter)


def names() -> list[str]:
    return list(ADAPTERS)


def get(name: str) -> Adapter:
    adapter = ADAPTERS.get(name)
    if adapter is None:
        raise InputError(f"unknown format {name!r}; expected auto or one of {', '.join(ADAPTERS)}")
    return adapter()


def detect(head: bytes, filename: str) -> Adapter:
    for adapter in ADAPTERS.values():
        instance = adapter()
        if instance.sniff(head, filename):
            return instance
    raise InputError(
        f"{filename}: cannot tell the format; name it with --format ({', '.join(ADAPTERS)})"
    )


_register_builtin()
