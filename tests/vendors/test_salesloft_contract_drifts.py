"""Salesloft held to its published API definition (``salesloft-contract.md``), issue 14.

Each test fails on the adapter as it was: tasks and users listed by ``updated_at`` (a
sort v2 refuses, a filter it ignores), an account's emails by an ``account_id`` v2 does
not have (every account's emails came back), cadence steps sorted by ``step_number``,
task writes carrying fields v2 does not take (``due_at``, the type, the person, the
assignee, reopening), and paging loops that followed a vendor asking for the same page
or the same mark again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from crmtui.fields import FieldError
from crmtui.model import Query, RecordRef
from tests.helpers.reliability import Rig, build, close
from tests.helpers.replies import RewriteReplies

Wire = Callable[..., Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def requests_of(adapter: Any) -> list[httpx.Request]:
    """Every request the adapter's session sends from now on (as answered)."""
    sent: list[httpx.Request] = []
    adapter.session.on_response.append(lambda response: sent.append(response.request))
    return sent


def query_of(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode(), keep_blank_values=True)


@pytest.fixture
async def rig(tmp_path: Path) -> Any:
    built = build("salesloft", tmp_path / "cache.sqlite3")
    yield built
    await close(built)


# -- tasks and users: no updated_at filter, bounded full reads ------------------------------


async def test_task_sync_reads_every_task_without_an_updated_at_filter(rig: Rig) -> None:
    """v2 sorts tasks by due_date/due_at only and has no updated_at filter: the sync
    reads every task by page (twice: the second sync is incremental) and ends."""
    sent = requests_of(rig.crm.adapter("salesloft"))
    for _ in range(2):
        (result,) = await rig.crm.sync("salesloft", ["task"])
        assert not result.error
        assert result.records == len(rig.app.state.db["tasks"])
    cached = rig.crm.store.window("salesloft", "task", offset=0, limit=10_000)
    assert {r.id for r in cached} == {str(i) for i in rig.app.state.db["tasks"]}
    tasks = [r for r in sent if r.url.path.rstrip("/").endswith("/tasks")]
    assert tasks
    for request in tasks:
        params = dict(query_of(request))
        assert not any(k.startswith(("updated_at", "created_at")) for k in params), params
        assert params.get("sort_by", "due_date") in ("due_date", "due_at")


async def test_users_are_listed_without_updated_at(wire: Wire) -> None:
    wired = wire("salesloft")
    sent = requests_of(wired.adapter)
    page = await wired.adapter.list_page("user", Query(updated_since=EPOCH, per_page=100))
    assert {r.id for r in page.records} == {str(i) for i in wired.db["users"]}
    users = [dict(query_of(r)) for r in sent if r.url.path.endswith("/users")]
    assert users and all("updated_at[gt]" not in params for params in users)
    assert all(params.get("sort_by", "id") in ("id", "email", "name") for params in users)


async def test_task_sync_ends_when_the_vendor_names_the_same_page_again(rig: Rig) -> None:
    """A vendor whose ``next_page`` does not move on: the sync stops, keeping what came."""

    def stuck(path: str, data: Any) -> None:
        if path.rstrip("/").endswith("/tasks") and isinstance(data, dict):
            data["metadata"]["paging"]["next_page"] = 1

    rig.crm.http.mount_app("http://salesloft.localhost", RewriteReplies(rig.app, stuck))
    sent = requests_of(rig.crm.adapter("salesloft"))
    (result,) = await rig.crm.sync("salesloft", ["task"], per_page=10)
    assert not result.error and result.pages == 1 and result.records == 10
    pages = [r for r in sent if r.url.path.endswith("/tasks") and "per_page=10" in str(r.url)]
    assert len(pages) == 1


class IgnoreUpdatedAt:
    """In front of the sandbox: ``updated_at[gt]`` dropped from every query, as a vendor
    that ignores the filter would answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
            kept = "&".join(f"{k}={v}" for k, v in pairs if not k.startswith("updated_at"))
            scope = {**scope, "query_string": kept.encode()}
        await self.app(scope, receive, send)


async def test_incremental_read_ends_when_the_vendor_ignores_the_filter(rig: Rig) -> None:
    """The ``updated_at[gt]`` mark only moves forward: a vendor answering the same page
    whatever the mark ends the read instead of looping for ever."""
    rig.crm.http.mount_app("http://salesloft.localhost", IgnoreUpdatedAt(rig.app))
    adapter = rig.crm.adapter("salesloft")
    first = await adapter.list_page("company", Query(updated_since=EPOCH, per_page=5))
    cursor, pages = first.next_cursor, 1
    while cursor is not None and pages < 50:
        cursor = (
            await adapter.list_page(
                "company", Query(updated_since=EPOCH, per_page=5, cursor=cursor)
            )
        ).next_cursor
        pages += 1
    assert cursor is None and pages < 50


# -- timelines and related records from documented filters -----------------------------------


async def test_account_timeline_holds_only_its_peoples_emails_and_calls(wire: Wire) -> None:
    """v2 has no account_id filter on emails (ignored: every account's emails came back):
    an account's emails and calls are its people's, by ``person_id[]``."""
    wired = wire("salesloft")
    db = wired.db
    account = next(
        a
        for a in db["accounts"]
        if any(db["people"][e["recipient"]]["account"] == a for e in db["emails"].values())
    )
    people = {p for p, row in db["people"].items() if row["account"] == account}
    timeline = await wired.adapter.timeline("company", str(account))
    emails = [a for a in timeline if a.family == "email"]
    calls = [a for a in timeline if a.family == "call"]
    assert emails
    assert all(a.raw["recipient"]["id"] in people for a in emails)
    assert all(a.raw["called_person"]["id"] in people for a in calls)


async def test_emails_of_an_account_are_listed_by_its_people(wire: Wire) -> None:
    wired = wire("salesloft")
    db = wired.db
    account = next(iter(db["accounts"]))
    people = {p for p, row in db["people"].items() if row["account"] == account}
    sent = requests_of(wired.adapter)
    page = await wired.adapter.list_page(
        "email", Query(filters={"company": str(account)}, per_page=100)
    )
    assert all(int(r.fields["contact"]) in people for r in page.records)
    expected = {e for e, row in db["emails"].items() if row["recipient"] in people}
    assert {int(r.id) for r in page.records} == set(sorted(expected)[:100]) or page.next_cursor
    assert all("account_id" not in r.url.query.decode() for r in sent if "emails" in r.url.path)


async def test_cadence_steps_in_step_order_without_a_step_number_sort(wire: Wire) -> None:
    wired = wire("salesloft")
    cadence = next(iter(wired.db["cadences"]))
    sent = requests_of(wired.adapter)
    record = await wired.adapter.get("cadence", str(cadence))
    numbers = [wired.db["steps"][int(s.id)]["step_number"] for s in record.related["Steps"]]
    assert numbers == sorted(numbers) and numbers
    steps = [r for r in sent if r.url.path.endswith("/steps")]
    assert all(dict(query_of(r)).get("sort_by") in ("created_at", "updated_at") for r in steps)


# -- task writes within the documented fields ------------------------------------------------


async def test_what_v2_cannot_change_on_a_task_is_not_offered(rig: Rig) -> None:
    specs = {s.key: s for s in await rig.crm.fields("salesloft", "task")}
    for key in ("type", "owner", "contact"):
        assert not specs[key].writable and specs[key].on_create, key
    assert not specs["due_at"].writable and not specs["due_at"].on_create
    assert specs["subject"].writable and specs["due_date"].writable
    task = next(iter(rig.app.state.db["tasks"]))
    ref = RecordRef(profile="salesloft", kind="task", id=str(task))
    await rig.crm.get(ref)
    for key, value in (("type", "email"), ("owner", "2"), ("due_at", "2031-01-02 10:00")):
        with pytest.raises(FieldError, match="cannot be changed"):
            await rig.crm.edit(ref, {key: value})
    assert not rig.crm.changes("salesloft")  # nothing queued


async def test_a_task_is_created_with_the_fields_post_requires(rig: Rig) -> None:
    """POST requires subject, person_id (text), user_id, task_type, due_date and
    current_state=scheduled, and takes no due_at; the assignee defaults to the caller."""
    adapter = rig.crm.adapter("salesloft")
    sent = requests_of(adapter)
    await rig.crm.fields("salesloft", "task")
    person = next(iter(rig.app.state.db["people"]))
    await rig.crm.create(
        "salesloft",
        "task",
        {"subject": "Intro call", "contact": str(person), "type": "call", "due_date": "2031-01-02"},
    )
    await rig.crm.outbox.flush("salesloft")
    (post,) = [r for r in sent if r.method == "POST"]
    body = json.loads(post.content)
    assert body["person_id"] == str(person) and body["user_id"] == 1
    assert body["task_type"] == "call" and body["current_state"] == "scheduled"
    assert body["due_date"] == "2031-01-02" and "due_at" not in body
    made = [t for t in rig.app.state.db["tasks"].values() if t["subject"] == "Intro call"]
    assert len(made) == 1 and made[0]["person"] == person and made[0]["user"] == 1


async def test_a_task_edit_sends_only_fields_put_takes(rig: Rig) -> None:
    adapter = rig.crm.adapter("salesloft")
    db = rig.app.state.db
    task = next(t for t in db["tasks"].values() if t["current_state"] == "scheduled")
    ref = RecordRef(profile="salesloft", kind="task", id=str(task["id"]))
    await rig.crm.get(ref)
    sent = requests_of(adapter)
    await rig.crm.edit(ref, {"subject": "Send the quote", "due_date": "2031-02-03", "done": "yes"})
    await rig.crm.outbox.flush("salesloft")
    (put,) = [r for r in sent if r.method == "PUT"]
    body = json.loads(put.content)
    assert set(body) <= {"subject", "description", "due_date", "remind_at", "current_state"}
    assert body["current_state"] == "completed"
    stored = db["tasks"][task["id"]]
    assert (stored["subject"], stored["due_date"], stored["current_state"]) == (
        "Send the quote",
        "2031-02-03",
        "completed",
    )


async def test_a_bounced_email_is_sent_with_the_bounced_flag_and_reads_bounced(
    wire: Wire,
) -> None:
    """v2's email ``status`` has twelve values and no ``bounced``: a bounce is a sent email
    whose ``bounced`` flag is set. The sandbox keeps to the twelve, and the timeline still
    says the email bounced."""
    wired = wire("salesloft")
    db = wired.db
    statuses = {row["status"] for row in db["emails"].values()}
    assert statuses <= {
        *("sent", "sent_from_gmail", "sent_from_external", "pending", "pending_reply_check"),
        *("scheduled", "sending", "delivering", "failed", "cancelled"),
        *("pending_through_gmail", "pending_through_external"),
    }
    bounced = next(e for e in db["emails"].values() if e["bounced"])
    person = bounced["recipient"]
    timeline = await wired.adapter.timeline("contact", str(person))
    summaries = {a.summary for a in timeline if a.family == "email"}
    assert f"Email to {bounced['recipient_email_address']} (bounced)" in summaries


async def read_since(adapter: Any, kind: str, since: datetime, per_page: int) -> list[str]:
    """Every id an incremental read from ``since`` yields, page by page (at most 200)."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(200):
        page = await adapter.list_page(
            kind, Query(updated_since=since, per_page=per_page, cursor=cursor)
        )
        ids += [r.id for r in page.records]
        if (cursor := page.next_cursor) is None:
            return ids
    raise AssertionError("the incremental read did not end")


@pytest.mark.parametrize("ties", [3, 7, 12])
async def test_records_sharing_an_updated_at_across_a_page_break_are_all_read(
    rig: Rig, ties: int
) -> None:
    """A bulk update gives many records one ``updated_at`` to the microsecond. Read 5 to a
    page by ``updated_at``, ties fall on both sides of a page break (and, at 12, fill whole
    pages): every record changed since the mark is read, each once. With ``[gt]`` and the
    last row's stamp as the next mark, those after the break were skipped."""
    accounts = rig.app.state.db["accounts"]
    now = max(row["updated_at"] for row in accounts.values())
    since = now + timedelta(seconds=1)
    bulk = since + timedelta(minutes=5, microseconds=123456)
    chosen = sorted(accounts)[: ties + 4]
    for n, key in enumerate(chosen):
        # two before the bulk update, the tied ones, two after it
        when = bulk + timedelta(minutes=(n - 1 if n < 2 else 0 if n < ties + 2 else n))
        accounts[key]["updated_at"] = when
    read = await read_since(rig.crm.adapter("salesloft"), "company", since, per_page=5)
    assert sorted(read) == sorted(str(k) for k in chosen)
