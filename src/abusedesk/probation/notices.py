"""The customer's notices of a probation: started (with the reinstatement), graduated,
escalated. Rendered from templates `default/probation_<outcome>.*` (or `<policy>/…`) and sent
through the notices outbox (notices/services.py: record_notice) like every other notice."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.orm import Session

from abusedesk.enforcement.services import Enforcement
from abusedesk.notices.render import NoticeRenderer
from abusedesk.notices.services import record_notice
from abusedesk.policies.catalogue import Policy
from abusedesk.probation.goals import Judgement
from abusedesk.probation.metrics import METRICS
from abusedesk.storage.models import Account, Probation

_LABEL: Final = {
    "complaint_rate": "spam complaint rate",
    "bounce_rate": "hard-bounce rate",
    "opt_out_rate": "opt-out rate",
    "sms_error_rate": "SMS delivery error rate",
}
_BASE: Final = {
    "sent": "messages sent",
    "email_sent": "emails sent",
    "delivered": "messages delivered",
    "sms_final": "delivery receipts",
}


def _pct(value: float) -> str:
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + " %"


def goal_lines(probation: Probation, judgement: Judgement | None = None) -> list[dict[str, Any]]:
    """Each goal as the customer reads it: what, the bound, and (measured) the value."""
    measured = {m.metric: m for m in judgement.measurements} if judgement else {}
    lines = []
    for goal in probation.goals:
        metric = str(goal["metric"])
        line: dict[str, Any] = {
            "metric": metric,
            "label": _LABEL.get(metric, metric),
            "bound": _pct(float(goal["below"])),
            "measured": None,
            "breached": False,
        }
        m = measured.get(metric)
        if m is not None:
            base_name = _BASE[METRICS[metric][1]]
            if m.judged and m.rate is not None:
                line["measured"] = f"{_pct(m.rate)} ({m.count:,} of {m.base:,} {base_name})"
            else:
                line["measured"] = (
                    f"too little traffic to measure ({m.base:,} {base_name}; "
                    f"{probation.min_volume:,} needed)"
                )
            line["breached"] = m.breached
        lines.append(line)
    return lines


def context(
    session: Session, policy: Policy, probation: Probation, judgement: Judgement | None
) -> dict[str, Any]:
    account = session.get(Account, probation.account_id)
    return {
        "account": {
            "id": probation.account_id,
            "company": account.company if account else None,
            "email": account.email if account else None,
        },
        "policy": policy,
        "probation": {
            "id": probation.id,
            "days": (probation.ends_at - probation.started_at).days,
            "started_at": probation.started_at.strftime("%Y-%m-%d %H:%M"),
            "ends_at": probation.ends_at.strftime("%Y-%m-%d %H:%M"),
            "goals": goal_lines(probation, judgement),
        },
        "reference": f"probation-{probation.id}",
    }


def queue_probation_notice(
    session: Session,
    enf: Enforcement,
    renderer: NoticeRenderer,
    probation: Probation,
    judgement: Judgement,
    *,
    outcome: str,
    actor: str,
) -> dict[str, Any]:
    """Queue the graduation or escalation notice of `probation` in the caller's transaction."""
    policy = enf.catalogue.get(probation.policy)
    kind = f"probation_{outcome}"
    rendered = renderer.render(policy.id, kind, context(session, policy, probation, judgement))
    return record_notice(
        session,
        enf,
        account_id=probation.account_id,
        case_id=probation.case_id,
        action_id=probation.action_id,
        rendered=rendered,
        tags=[f"policy_{policy.id}", kind],
        external_id=f"probation-{probation.id}",
        channel=probation.channel,
        recipient=probation.recipient,
        actor=actor,
    )


def probation_summary(probation: Probation) -> str:
    """One paragraph for the reinstatement notice of an overturned appeal: what is measured,
    until when."""
    goals = " and ".join(f"{g['label']} (below {g['bound']})" for g in goal_lines(probation))
    days = (probation.ends_at - probation.started_at).days
    return (
        f"For the next {days} days (until {probation.ends_at.strftime('%Y-%m-%d %H:%M')} UTC) "
        f"your account is on probation: we measure its {goals}. If it stays within these "
        "goals the probation ends by itself; if not, your case goes back to our team. We will "
        "write to you either way."
    )
