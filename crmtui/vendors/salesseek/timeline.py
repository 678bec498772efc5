"""SalesSeek's timelines: the activity list (``/api/activities``) as ``Activity`` entries.

Every category flag is asked for (companies also pull in their individuals' and deals'
activities); ``Activity.family`` is the flag that selects the entry (``notes``,
``communications``, ``contact_updates``, ``deals``, ``campaign_emails``,
``automation_emails``), so ``timeline(..., families=...)`` asks the server for those only.
Tasks and groups have no timeline.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from crmtui import fields as fv
from crmtui.model import Activity, ActivityType, RelatedRef, utcnow
from crmtui.vendors.base import record_id
from crmtui.vendors.salesseek.resources import KIND_OF, PATHS, ref

# The activity list's documented filters, as the timeline offers them.
FAMILY_LABELS = {
    "notes": "Notes",
    "communications": "Communications",
    "contact_updates": "Contact updates",
    "deals": "Deals",
    "campaign_emails": "Campaign emails",
    "automation_emails": "Automation emails",
}
FAMILIES = tuple(FAMILY_LABELS)
TIMELINE_KINDS = ("company", "contact", "deal")
LABELS = {
    "auto:organization_import": "Organization imported",
    "auto:individual_import": "Individual imported",
    "auto:opportunity_import": "Deal imported",
    "auto:organization_creation": "Organization created",
    "auto:individual_creation": "Individual created",
    "auto:opportunity_creation": "Deal created",
    "archive:mailshot_sent": "Campaign sent",
    "archive:mailshot_opened": "Campaign opened",
    "automation:archive:mailshot_url_clicked": "Campaign link clicked",
    "automation:archive:mailshot_sent": "Automated email sent",
}


def family(activity_type: str) -> str:
    """The activity list flag that selects an activity type (see the docstring)."""
    if activity_type in ("note", "task:completed"):
        return "notes"
    if activity_type in ("archive:email", "auto:call"):
        return "communications"
    if activity_type.startswith("automation:"):
        return "automation_emails"
    if activity_type.startswith("archive:mailshot"):
        return "campaign_emails"
    if activity_type.startswith("auto:opportunity"):
        return "deals"
    return "contact_updates"


def timeline_params(kind: str, id: str, families: Iterable[str] | None) -> dict[str, Any]:
    """The activity list's query for one record's timeline, newest first."""
    wanted = set(FAMILIES if families is None else families)
    params: dict[str, Any] = {
        "start": 0,
        "rows": 100,
        "order_by": "created desc",
        **{flag: "true" if flag in wanted else "false" for flag in FAMILIES},
        "item_type": PATHS[kind],
        "item_id": id,
    }
    if kind == "company":
        params.update(include_ind_related="true", include_deal_related="true")
    return params


def note_html(text: str) -> str:
    """A note's text as the HTML SalesSeek keeps (one paragraph a line, escaped)."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def note_body(kind: str, id: str, text: str) -> dict[str, Any]:
    """The activity a new note on a record is posted as."""
    return {
        "note": note_html(text),
        "created": None,
        "target_date": None,
        "activity_type": "note",
        "item_type": PATHS[kind],
        "item_id": id,
        "tags": [],
    }


def activity(raw: dict[str, Any]) -> Activity:
    kind = raw.get("activity_type") or ""
    params = raw.get("params") or {}
    body = fv.html_to_text(raw.get("note"))
    first = (body.splitlines() or [""])[0][:80]
    if kind == "note":
        atype, summary = ActivityType.NOTE, first or "Note"
    elif kind == "auto:call":
        atype, summary = ActivityType.CALL, first or "Call logged"
    elif kind == "archive:email":
        atype, summary = ActivityType.EMAIL, params.get("subject") or first or "Email"
    elif kind == "auto:opportunity_movement":
        atype = ActivityType.STAGE_CHANGE
        summary = f"Moved from {params.get('from')} to {params.get('to')}"
    elif kind == "task:completed":
        atype = ActivityType.TASK_EVENT
        summary = f"Task completed: {params.get('description') or first}"[:80]
    else:
        atype = ActivityType.EMAIL if "mailshot" in kind else ActivityType.OTHER
        summary = first or LABELS.get(kind, kind)
    links = [
        RelatedRef(kind=KIND_OF[key], id=ref(raw[f"{key}_id"]), title=raw.get(f"{key}_name") or "")
        for key in ("individual", "organization", "opportunity")
        if raw.get(f"{key}_id")
    ]
    when = fv.parse_datetime(raw.get("user_created") or raw.get("created"))
    return Activity(
        id=record_id("SalesSeek", raw.get("id"), "timeline entry"),
        type=atype,
        occurred_at=when or utcnow(),
        summary=summary,
        body=body,
        who=(raw.get("creator") or {}).get("name") or params.get("who") or "",
        family=family(kind),
        links=links,
        raw=raw,
    )
