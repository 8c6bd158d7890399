"""A dry run of enforcement: take the actions and render their notices inside a transaction
that is rolled back, so what would happen is shown by the code that would do it, and nothing
is stored, queued or sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import Enforcement, take
from abusedesk.errors import AbusedeskError
from abusedesk.notices.render import NoticeRenderer, Rendered
from abusedesk.notices.services import draft_in_session


@dataclass(frozen=True)
class WouldTake:
    request: ActionRequest
    action: dict[str, object] | None
    error: str | None
    notice: Rendered | None
    # False when the request is answered by an action already in force (taken earlier in the
    # same run, e.g. a second case of a suspended account): nothing new would happen.
    created: bool = True


def dry_run(
    enf: Enforcement,
    renderer: NoticeRenderer,
    requests: Sequence[ActionRequest],
    *,
    notices: int = 1,
    appeal_days: int = 21,
) -> list[WouldTake]:
    """What each request would do; the first `notices` of them with their rendered notice."""
    results: list[WouldTake] = []
    with enf.store.sessions() as session:
        session.begin()
        try:
            for request in requests:
                try:
                    taken = take(session, enf, request)
                except AbusedeskError as exc:
                    results.append(WouldTake(request, None, exc.message, None))
                    continue
                rendered = None
                if taken.created and sum(r.notice is not None for r in results) < notices:
                    session.flush()
                    rendered = draft_in_session(
                        session,
                        enf,
                        renderer,
                        action_id=int(str(taken.action["id"])),
                        fills={},
                        examples=(),
                        appeal_days=appeal_days,
                    ).rendered
                results.append(WouldTake(request, taken.action, None, rendered, taken.created))
        finally:
            session.rollback()
    return results
