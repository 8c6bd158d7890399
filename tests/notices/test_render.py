"""Notice rendering: golden files for the text, HTML and subject; nothing that names a
complainant, a reporter or a spam trap; placeholders block sending until filled.

To regenerate the golden files after an intended change of a template:
    ABUSEDESK_REGEN_GOLDEN=1 .venv/bin/pytest tests/notices/test_render.py
then read the diff of tests/notices/golden/ before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import Enforcement, do_reverse_action, do_take_action
from abusedesk.errors import ConflictError
from abusedesk.notices.evidence import mask_recipient, mask_text
from abusedesk.notices.render import NoticeRenderer
from abusedesk.notices.services import do_send_notice, draft_notice
from abusedesk.workspace import Workspace

from .conftest import EXAMPLES

GOLDEN = Path(__file__).parent / "golden"
FILLS = {"threshold": "0.1 % of delivered messages (mailbox providers' limit)"}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ABUSEDESK_REGEN_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"differs from {path}"


def test_pause_notice_matches_golden(enf: Enforcement, paused: int) -> None:
    draft = draft_notice(enf, NoticeRenderer(), action_id=paused, fills=FILLS, examples=EXAMPLES)
    assert draft.rendered.missing == []
    check_golden("pause.subject.txt", draft.rendered.subject + "\n")
    check_golden("pause.text.txt", draft.rendered.text)
    check_golden("pause.html", draft.rendered.html)


def test_reinstatement_notice_matches_golden(enf: Enforcement, paused: int) -> None:
    reversal = do_reverse_action(enf, action_id=paused, actor="lead", reason="appeal upheld")
    draft = draft_notice(enf, NoticeRenderer(), action_id=reversal.action["id"])
    assert draft.rendered.missing == []
    check_golden("reinstate.text.txt", draft.rendered.text)


def test_never_names_complainant_reporter_or_trap(enf: Enforcement, paused: int) -> None:
    draft = draft_notice(enf, NoticeRenderer(), action_id=paused, fills=FILLS, examples=EXAMPLES)
    for part in (draft.rendered.subject, draft.rendered.text, draft.rendered.html):
        for secret in (
            "isp.example",
            "honeypot",
            "trap",
            "reporter",
            "jane.doe",
            "4155550100",
            "sales@customer",
            "8031234567",
        ):
            assert secret not in part
    assert "complaint_rate_24h: 0.0062 over the last 24h (10192 messages)" in draft.rendered.text
    assert "j•••@gmail.example" in draft.rendered.text


def test_placeholders_block_sending_until_filled(
    workspace: Workspace, enf: Enforcement, paused: int
) -> None:
    renderer = NoticeRenderer()
    draft = draft_notice(enf, renderer, action_id=paused)
    assert draft.rendered.missing == ["threshold"]
    assert "[[FILL: threshold]]" in draft.rendered.text
    with pytest.raises(ConflictError, match="threshold") as raised:
        do_send_notice(enf, renderer, action_id=paused, actor="ana")
    assert raised.value.details == {"missing": ["threshold"]}
    sent = do_send_notice(enf, renderer, action_id=paused, actor="ana", fills=FILLS)
    assert sent["recipient"] == "admin@customer.example"
    assert sent["status"] == "queued"


def test_a_policy_template_wins_over_the_default(
    tmp_path: Path, enf: Enforcement, paused: int
) -> None:
    (tmp_path / "email-complaint-rate").mkdir()
    (tmp_path / "email-complaint-rate" / "pause.subject.j2").write_text("Paused: {{ account.id }}")
    draft = draft_notice(enf, NoticeRenderer(tmp_path), action_id=paused, fills=FILLS)
    assert draft.rendered.subject == "Paused: AC123"
    assert draft.rendered.template == "default/any"  # text and HTML still the default ones


def test_masking() -> None:
    assert mask_recipient("+2348031234567") == "+234••••••••67"
    assert mask_recipient("jane@example.com") == "j•••@example.com"
    assert mask_text("mail bob@x.example now") == "mail b•••@x.example now"


def test_a_warning_without_a_case_still_renders(enf: Enforcement, paused: int) -> None:
    warn = do_take_action(
        enf,
        ActionRequest(account_id="AC9", actor="ana", reason="r", policy="consent"),
    )
    draft = draft_notice(enf, NoticeRenderer(), action_id=warn.action["id"], fills=FILLS)
    assert draft.rendered.subject.startswith("Warning: warning on account AC9")
