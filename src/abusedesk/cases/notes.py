"""Notes on a case, with @-mentions of the analysts who should read them."""

from __future__ import annotations

import re
from typing import Final

from abusedesk.cases.lifecycle import load_case
from abusedesk.cases.timeline import record_change
from abusedesk.clock import Clock
from abusedesk.errors import InputError
from abusedesk.storage.db import Store

MENTION: Final = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,127})")
MAX_NOTE: Final = 20_000


def mentions(text: str) -> list[str]:
    """Names mentioned as @name, in order, each once; a trailing dot ends the sentence."""
    seen: list[str] = []
    for found in MENTION.findall(text):
        name = found.rstrip(".")
        if name not in seen:
            seen.append(name)
    return seen


def do_add_note(store: Store, clock: Clock, *, case_id: int, text: str, actor: str) -> list[str]:
    """Add a note (closed cases too: a late finding belongs on the record); the mentions."""
    text = text.strip()
    if not text:
        raise InputError("a note needs text")
    if len(text) > MAX_NOTE:
        raise InputError(f"a note is at most {MAX_NOTE} characters")
    named = mentions(text)
    with store.transaction() as session:
        case = load_case(session, case_id)
        record_change(
            session,
            clock,
            case,
            kind="note",
            actor=actor,
            reason=None,
            after={"mentions": named},
            body={"text": text, "mentions": named},
        )
    return named
