"""What a sandbox holds of the calls crmtui logged (issue 17 point 2), per vendor, read
from its own data: the note, the duration in seconds, the outcome and the record."""

from __future__ import annotations

from typing import Any

from crmtui.fields import parse_datetime


def vendor_calls(vendor: str, db: Any) -> list[dict[str, Any]]:
    """The calls the sandbox holds, as (note, duration in seconds, outcome) rows."""
    if vendor == "salesloft":
        notes = db.tables["notes"]
        return [
            {
                "note": notes[c["note"]]["content"] if c.get("note") else "",
                "seconds": c["duration"],
                "outcome": (c["disposition"], c["sentiment"]),
                "on": str(c["called_person"]),
            }
            for c in db.tables["calls"].values()
        ]
    if vendor == "freshsales":
        out = []
        for a in db.sales_activities.values():
            start, end = parse_datetime(a["start_date"]), parse_datetime(a["end_date"])
            assert start is not None and end is not None
            out.append(
                {
                    "note": a.get("notes") or "",
                    "seconds": (end - start).total_seconds(),
                    "outcome": a.get("sales_activity_outcome_id"),
                    "on": str(a["targetable_id"]),
                }
            )
        return out
    if vendor == "activecampaign":
        out = []
        for t in db.tasks.values():
            if t.get("title") != "Call":  # a follow-up task, or a task of the seed
                continue
            start, end = parse_datetime(t["duedate"]), parse_datetime(t.get("edate"))
            seconds = (end - start).total_seconds() if start and end else None
            out.append(
                {"note": t["note"], "seconds": seconds, "outcome": t["status"], "on": t["relid"]}
            )
        return out
    if vendor == "salesseek":
        rows = db.store("activities").values()
        return [
            {"note": a.get("note") or "", "seconds": None, "outcome": None, "on": a["target_id"]}
            for a in rows
            if a["activity_type"] == "auto:call"
        ]
    return [
        {"note": e["body"], "seconds": None, "outcome": e["subject"], "on": ""} for e in db.events
    ]


def follow_ups(vendor: str, db: Any, subject: str) -> list[dict[str, Any]]:
    """The tasks of the sandbox whose subject holds ``subject``."""
    tasks = {
        "salesloft": lambda: db.tables["tasks"].values(),
        "freshsales": lambda: db.tasks.values(),
        "activecampaign": lambda: db.tasks.values(),
        "salesseek": lambda: db.store("tasks").values(),
    }[vendor]()
    named = ("subject", "title", "text")
    return [t for t in tasks if any(subject in str(t.get(k) or "") for k in named)]
