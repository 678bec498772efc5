"""SalesforceIQ timelines: the API has no readable activity feed, so a record's timeline
is what the API does give (list membership, modified dates) and the events logged from
crmtui (kept: the API cannot read them back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from crmtui.model import Activity, ActivityType, Record, RelatedRef
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


def merged(
    own: list[Activity], pairs: list[tuple[ListSchema, Json]], logged: list[Activity]
) -> list[Activity]:
    """A record's timeline: its own modified date, its list items' membership, the
    events logged from crmtui; each once, newest first."""
    activities = own + [a for schema, item in pairs for a in membership_activities(schema, item)]
    unique = {a.id: a for a in activities + logged}
    return sorted(unique.values(), key=lambda a: a.occurred_at, reverse=True)


def event_of(text: str, contacts: list[Record]) -> Json | None:
    """The event (``PUT /events``) logging a note: its first line as the subject, the
    contacts' emails (else phones) as participants; None when there are none."""
    participants = [
        {"type": kind, "value": value}
        for record in contacts
        for kind, value in (
            ("email", record.fields["email"]),
            ("phone", record.fields["phone"]),
        )
        if value
    ]
    emails = [p for p in participants if p["type"] == "email"]
    if not participants:
        return None
    body = text.strip()
    subject = body.splitlines()[0][:80] if body else "Note"
    return {"subject": subject, "body": body, "participantIds": emails or participants}


def logged_activity(event: Json, contacts: list[Record]) -> Activity:
    """The note an event logged, as the timeline shows it (kept: the app's cache holds
    it, since the API cannot read events back)."""
    return Activity(
        id=f"event-{uuid.uuid4().hex}",
        type=ActivityType.NOTE,
        occurred_at=datetime.now(UTC),
        summary=event["subject"],
        body=event["body"],
        who="crmtui",
        family="event",
        links=[RelatedRef(kind=r.kind, id=r.id, title=r.title) for r in contacts],
        raw=event,
        kept=True,
    )
