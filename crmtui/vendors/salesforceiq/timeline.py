"""SalesforceIQ timelines: the API has no readable activity feed, so a record's timeline
is what the API does give (list membership, modified dates) and the events logged from
crmtui."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crmtui.model import Activity, RelatedRef
from crmtui.vendors.salesforceiq.lists import ListSchema, parse_when, stage_of

Json = dict[str, Any]


def membership_activities(schema: ListSchema, item: Json) -> list[Activity]:
    """When a list item was added to its list and last modified (with its stage)."""
    stage = stage_of(schema, item)
    links = [RelatedRef(kind=schema.kind, id=item["id"], title=item.get("name") or "")]
    out = []
    created = parse_when(item.get("createdDate"))
    if created:
        out.append(
            Activity(
                id=f"added-{item['id']}",
                occurred_at=created,
                summary=f"Added to {schema.title}: {item.get('name')}",
                family="list",
                links=links,
                raw=item,
            )
        )
    modified = parse_when(item.get("modifiedDate"))
    if modified and modified != created:
        status = f" — {stage}" if stage else ""
        out.append(
            Activity(
                id=f"modified-{item['id']}-{item.get('version')}",
                occurred_at=modified,
                summary=f"{schema.title}: {item.get('name')} updated{status}",
                body=f"Version {item.get('version')}",
                family="list",
                links=links,
                raw=item,
            )
        )
    return out


def modified_activity(obj: Json, what: str, name: str) -> Activity:
    return Activity(
        id=f"modified-{obj['id']}",
        occurred_at=parse_when(obj.get("modifiedDate")) or datetime.now(UTC),
        summary=f"{what} {name} last modified",
        family="modified",
        raw={"id": obj["id"], "modifiedDate": obj.get("modifiedDate")},
    )
