"""ActiveCampaign's timelines: ``/dealActivities?deal=ID`` with the deal's notes and tasks
for the text, newest first. A task's timeline is its deal's ``task`` activities for that
task.

What an activity says is read from what the API returns: ``dataId`` is the id of the
related object (a note, a task, a contact; the seed's "291 for a note with ID 291"; public
connectors type it as an integer), ``dataOldval`` the value before a change. The API
gives no new value of a changed title, amount or status: it is the value before the next
change of the same attribute, or, for the latest, the deal's own value (``GET
/deals/{id}``). A stage or owner change names the new stage or user by ``dataId`` when it
is one of theirs, else by the same rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from crmtui.fields import cents_to_money, html_to_text, money_text, parse_datetime
from crmtui.http import VendorSession
from crmtui.model import Activity, ActivityType, Kind, Record, RelatedRef
from crmtui.vendors.activecampaign.resources import STATUS, person_name, txt
from crmtui.vendors.activecampaign.transport import call, read_all
from crmtui.vendors.base import record_id
from crmtui.vendors.mapping import path_id

Row = dict[str, Any]
TASK_ACTIVITY = {"call": ActivityType.CALL, "email": ActivityType.EMAIL}
# A change's dataType -> the deal attribute it changed (whose new value the API omits).
CHANGED = {"d_stageid": "stage", "userid": "owner", "status": "status", "value": "value",
           "title": "title"}  # fmt: skip


def new_values(activities: list[Row], deal: Row) -> dict[str, str]:
    """The value each change of ``CHANGED`` left, by activity id: the ``dataOldval`` of the
    next change of the same attribute, or the deal's own value for the latest (nothing
    when the deal is not known: a task's timeline)."""
    order = sorted(activities, key=lambda a: (txt(a.get("cdate")), _number(a.get("id"))))
    out: dict[str, str] = {}
    last: dict[str, str] = {}  # dataType -> the id of its latest change so far
    for row in order:
        data_type = txt(row.get("dataType"))
        if data_type not in CHANGED:
            continue
        if data_type in last:
            out[last[data_type]] = txt(row.get("dataOldval"))
        last[data_type] = txt(row.get("id"))
    for data_type, id in last.items():
        if deal.get(CHANGED[data_type]) is not None:
            out[id] = txt(deal.get(CHANGED[data_type]))
    return out


def _number(value: Any) -> int:
    text = txt(value)
    return int(text) if text.isdigit() else 0


class DealTimeline:
    """The timeline half of the adapter (mixed into ``ActiveCampaign``)."""

    label: ClassVar[str]
    session: VendorSession
    _stages: dict[str, Row]
    _contacts: dict[str, Row]

    # What the timeline reads of the adapter's lookups (``ActiveCampaign`` has them).
    async def _config(self) -> None:
        raise NotImplementedError

    async def _contact(self, cid: Any) -> Row | None:
        raise NotImplementedError

    def _user_name(self, uid: Any) -> str:
        raise NotImplementedError

    def _task_record(self, row: Row) -> Record:
        raise NotImplementedError

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        await self._config()
        deal: Row = {}
        if kind == Kind.DEAL:
            activities = await read_all(
                self.session, "dealActivities", "dealActivities", {"deal": id}
            )
            deal = (await call(self.session, "GET", f"deals/{path_id(id)}")).get("deal") or {}
            notes = await read_all(self.session, f"deals/{path_id(id)}/notes", "notes")
            tasks = await read_all(
                self.session,
                "dealTasks",
                "dealTasks",
                {"filters[reltype]": "Deal", "filters[relid]": id},
            )
        elif kind == Kind.TASK:
            task = (await call(self.session, "GET", f"dealTasks/{path_id(id)}"))["dealTask"]
            if task.get("reltype") != "Deal":
                return []
            params = {"deal": task["relid"], "filters[data_type]": "task", "filters[data_id]": id}
            activities = await read_all(self.session, "dealActivities", "dealActivities", params)
            notes, tasks = [], [task]
        else:
            return []
        await self._name_contacts(activities)
        by_note = {txt(n["id"]): n for n in notes}
        by_task = {txt(t["id"]): t for t in tasks}
        after = new_values(activities, deal)
        currency = txt(deal.get("currency")) or None  # a task's timeline: not known
        out = [self._activity(a, by_note, by_task, after, currency) for a in activities]
        out.sort(key=lambda a: (a.occurred_at, int(a.id)), reverse=True)
        return out

    async def _name_contacts(self, activities: list[Row]) -> None:
        for activity in activities:
            if activity.get("dataType") in ("contact", "email"):
                await self._contact(activity.get("dataId"))

    def _activity(
        self,
        row: Row,
        notes: dict[str, Row],
        tasks: dict[str, Row],
        after: dict[str, str],
        currency: str | None = None,
    ) -> Activity:
        kind, summary, body, family, links = self._describe(row, notes, tasks, after, currency)
        return Activity(
            id=record_id(self.label, row.get("id"), "timeline entry"),
            type=kind,
            occurred_at=parse_datetime(row.get("cdate")) or datetime.now(UTC),
            summary=summary,
            body=body,
            who=self._user_name(row.get("userid")),
            family=family,
            links=links,
            raw=row,
        )

    def _describe(
        self,
        row: Row,
        notes: dict[str, Row],
        tasks: dict[str, Row],
        after: dict[str, str],
        currency: str | None = None,
    ) -> tuple[ActivityType, str, str, str, list[RelatedRef]]:
        """(type, summary, body, family, links) of one deal activity; ``after``: the
        value a change left, by activity id (``new_values``); ``currency``: the deal's,
        its amounts shown in the one money format (``fields.money_text``)."""
        data_type, action = txt(row.get("dataType")), txt(row.get("dataAction"))
        related, old = txt(row.get("dataId")), txt(row.get("dataOldval"))
        new = after.get(txt(row.get("id")), "") if data_type in CHANGED else related
        if data_type == "" and action == "add":
            return ActivityType.OTHER, "Deal created", "", "changes", []
        if data_type == "d_stageid":
            new = related if related in self._stages else new
            summary = f"Stage: {self._stage_title(old)} → {self._stage_title(new)}"
            return ActivityType.STAGE_CHANGE, summary, "", "changes", []
        if data_type == "status":
            summary = f"Marked {STATUS.get(new, new)}" if new != "0" else "Reopened"
            return ActivityType.STAGE_CHANGE, summary, "", "changes", []
        if data_type == "userid":
            new = related if self._user_name(related) else new
            summary = f"Owner: {self._user_name(old) or '—'} → {self._user_name(new) or '—'}"
            return ActivityType.OTHER, summary, "", "changes", []
        if data_type == "value":
            before, now = (money_text(cents_to_money(v or 0), currency) for v in (old, new))
            summary = f"Value: {before} → {now}"
            return ActivityType.OTHER, summary, "", "changes", []
        if data_type == "title":
            if not new:
                return ActivityType.OTHER, "Renamed", f"Was: {old}", "changes", []
            return ActivityType.OTHER, f"Renamed to {new}", f"Was: {old}", "changes", []
        if data_type == "note":
            body = html_to_text(txt(notes.get(new, {}).get("note")))
            first = body.splitlines()[0] if body else "Note"
            return ActivityType.NOTE, first[:80], body, "notes", []
        if data_type == "task":
            return self._task_activity(action, tasks.get(new), new)
        if data_type in ("contact", "email", "connection_email"):
            person = person_name(self._contacts.get(new))
            ref = [RelatedRef(kind=Kind.CONTACT, id=new, title=person)] if person else []
            if data_type == "contact":
                return ActivityType.OTHER, f"Contact added: {person}", "", "contacts", ref
            return ActivityType.EMAIL, f"Email sent to {person}".strip(), "", "emails", ref
        return ActivityType.OTHER, f"{data_type or 'deal'} {action}".strip(), "", "other", []

    def _task_activity(
        self, action: str, task: Row | None, task_id: str
    ) -> tuple[ActivityType, str, str, str, list[RelatedRef]]:
        record = self._task_record(task) if task else None
        title = record.title if record else f"task {task_id}"
        kind_title = record.subtitle.split(" · ")[0] if record else "Task"
        links = [RelatedRef(kind=Kind.TASK, id=task_id, title=title)]
        body = record.fields["body"] if record else ""
        if action == "complete":
            lowered = kind_title.lower()
            if lowered in ("meeting", "lunch"):
                kind = ActivityType.MEETING
            else:
                kind = TASK_ACTIVITY.get(lowered, ActivityType.TASK_EVENT)
            return kind, f"{kind_title} done: {title}", body, "tasks", links
        verbs = {"add": "added", "update": "updated", "delete": "deleted"}
        summary = f"{kind_title} {verbs.get(action, action)}: {title}"
        return ActivityType.TASK_EVENT, summary, body, "tasks", links

    def _stage_title(self, sid: str) -> str:
        title: str = self._stages.get(sid, {}).get("title", f"stage {sid}" if sid else "—")
        return title
