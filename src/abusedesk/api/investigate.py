"""Investigation routes: account 360, linked accounts, entity pivot. Personal data is masked
unless the caller reveals it (`?reveal=true&reason=...`, needs pii:read, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from abusedesk.api import pagination
from abusedesk.api.access import GUARDED_RESPONSES
from abusedesk.api.auth import require
from abusedesk.api.responses import JSONBody
from abusedesk.auth import roles
from abusedesk.auth.pii import disclose
from abusedesk.auth.tokens import Principal
from abusedesk.investigate.account import Limits, account_360
from abusedesk.investigate.linked import linked_accounts
from abusedesk.investigate.pivot import entity_pivot
from abusedesk.workspace import Workspace

router = APIRouter(
    responses={
        **GUARDED_RESPONSES,
        404: GUARDED_RESPONSES[400] | {"description": "No such account (code not_found)"},
        408: GUARDED_RESPONSES[400]
        | {"description": "A lake read passed ABUSEDESK_INVESTIGATE_TIMEOUT_S (code timeout)"},
    }
)
Reader = Annotated[Principal, Depends(require(roles.ACCOUNTS_READ))]
Reveal = Annotated[
    bool, Query(description="Show personal data unmasked (needs pii:read; audited).")
]
Reason = Annotated[
    str | None, Query(max_length=1000, description="Why the reveal is needed (required with it).")
]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


@router.get("/v1/accounts/{account_id}", summary="Account 360")
def get_account(
    request: Request,
    *,
    account_id: str,
    principal: Reader,
    reveal: Reveal = False,
    reason: Reason = None,
) -> JSONBody:
    """Profile and sign-up data, entities, status, cases, rule hits, actions, traffic metrics
    over `ABUSEDESK_INVESTIGATE_DAYS` days ending on its last event, and a message sample."""
    ws = _ws(request)
    limits = Limits(days=ws.settings.investigate_days, sample=ws.settings.investigate_sample_size)
    lake = ws.account_lake()
    view = account_360(ws.store, lake, account_id, limits)
    return JSONBody(
        disclose(
            view,
            store=ws.store,
            clock=ws.clock,
            principal=principal,
            reveal=reveal,
            reason=reason,
            object_type="account",
            object_id=account_id,
        )
    )


@router.get("/v1/accounts/{account_id}/linked", summary="Linked accounts (two hops)")
def get_linked(
    request: Request,
    *,
    account_id: str,
    _principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> JSONBody:
    """Accounts sharing an entity with this one (hops 1 and 2) with the shared values,
    strongest links first; entities too common to link anyone are listed apart."""
    ws = _ws(request)
    result = linked_accounts(ws.store, account_id, common=ws.settings.investigate_common_entity)
    start = int(pagination.decode(cursor).get("offset", 0))
    items = result["linked"][start : start + limit]
    more = start + limit < len(result["linked"])
    body: dict[str, Any] = pagination.page(items, {"offset": start + limit} if more else None)
    body |= {"account_id": account_id, "too_common": result["too_common"]}
    return JSONBody(body)


@router.get("/v1/entities/{kind}/{value:path}", summary="Entity pivot")
def get_entity(
    request: Request,
    *,
    kind: str,
    value: str,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    reveal: Reveal = False,
    reason: Reason = None,
) -> JSONBody:
    """From a number, address, domain, URL, IP, device, payment fingerprint, API key or sender
    id to its accounts (paged), messages carrying it and reports naming it. Kinds: number,
    address, domain, url, ip, device, payment, api_key, sender_id."""
    ws = _ws(request)
    after = str(pagination.decode(cursor).get("after", ""))
    lake = ws.account_lake()
    result = entity_pivot(
        ws.store,
        lake,
        kind,
        value,
        days=ws.settings.investigate_days,
        sample=ws.settings.investigate_sample_size if not after else 0,
        after=after,
        limit=limit,
    )
    next_after = result.pop("next_after")
    accounts = result.pop("accounts")
    body = pagination.page(accounts, {"after": next_after} if next_after else None) | result
    return JSONBody(
        disclose(
            body,
            store=ws.store,
            clock=ws.clock,
            principal=principal,
            reveal=reveal,
            reason=reason,
            object_type="entity",
            object_id=f"{result['kind']}:{result['value']}",
        )
    )
