"""Ways a request could leave a vendor's contract unseen by the test transport
(``tests/helpers/contract.py``), each shown closed: the request is sent as an adapter would
send it (through crmtui's own client, or as a crmtui child process does, over loopback),
and the watch must name it.

Each test sends its offending request on purpose (``off_contract``) inside a watch of its
own and asserts what that watch names."""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmtui import sandbox
from crmtui.http import Http
from crmtui.http.client import USER_AGENT
from crmtui.sandbox.contract import Violation
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.serve import serving
from tests.helpers.contract import Watch, children_watched, unexcused, watching
from tests.helpers.service import Unreachable

pytestmark = pytest.mark.off_contract

ORIGIN = "http://salesloft.localhost"
AUTH = {"Authorization": "Bearer sandbox"}
TASKS = "/v2/tasks.json"  # Salesloft documents no ``updated_at`` filter on tasks
OFF = {"updated_at[gt]": "2020-01-01T00:00:00Z"}


def named(watch: Watch) -> list[tuple[str, str, str]]:
    return [(v.kind, v.name, v.path) for v in dict.fromkeys(watch.broken)]


def rules(watch: Watch) -> list[Violation]:
    return list(dict.fromkeys(watch.broken))


@asynccontextmanager
async def salesloft(**options: Any) -> AsyncIterator[tuple[Http, Any]]:
    """crmtui's client with the Salesloft sandbox mounted in-process (no rate limit)."""
    http = Http()
    app = sandbox.create_app("salesloft", rate_limit=False, **options)
    http.mount_app(ORIGIN, app)
    http.client.headers.update(AUTH)
    try:
        yield http, app
    finally:
        await http.aclose()


@pytest.mark.parametrize("fault", ["drop", "lost"])
async def test_a_request_whose_reply_never_arrives_is_still_checked(fault: str) -> None:
    """A reply cut off or lost (the write applied, the answer gone) raises in the
    transport; the request the adapter sent was the same and is held to the contract."""
    async with salesloft(faults=Faults(next=deque([fault]))) as (http, _):
        with watching() as watch, pytest.raises(httpx.HTTPError):
            await http.client.get(ORIGIN + TASKS, params=OFF)
    assert named(watch) == [("param", "updated_at[gt]", TASKS)]


async def test_a_request_to_an_unplugged_vendor_is_still_checked() -> None:
    """A test that unplugs the vendor (``Unreachable`` mounted on its origin) still sends
    what the adapter built: it is checked against the contract mounted there before."""
    async with salesloft() as (http, _):
        with watching() as watch:
            http.transport.mount(ORIGIN, Unreachable())
            with pytest.raises(httpx.ConnectError):
                await http.client.get(ORIGIN + TASKS, params=OFF)
    assert named(watch) == [("param", "updated_at[gt]", TASKS)]


class Wrapper:
    """A test's wrapper around a sandbox app that does not name it ``app``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.inner(scope, receive, send)


async def test_a_sandbox_mounted_behind_a_wrapper_is_checked() -> None:
    http = Http()
    http.mount_app(ORIGIN, Wrapper(sandbox.create_app("salesloft", rate_limit=False)))
    try:
        with watching() as watch:
            answer = await http.client.get(ORIGIN + TASKS, params=OFF, headers=AUTH)
    finally:
        await http.aclose()
    assert answer.status_code == 200
    assert named(watch) == [("param", "updated_at[gt]", TASKS)]


async def test_a_child_process_request_to_a_loopback_sandbox_is_checked() -> None:
    """The kill -9 tests run crmtui in a child process against a sandbox served here: its
    requests never pass this process's transport. They are checked where they arrive
    (crmtui's client names itself in ``User-Agent``); another client's are not ours."""
    app = sandbox.create_app("salesloft", rate_limit=False)
    with serving(app) as origin, watching() as watch:
        headers = {**AUTH, "User-Agent": USER_AGENT}
        async with httpx.AsyncClient(base_url=origin, headers=headers) as child:
            assert (await child.get(TASKS, params=OFF)).status_code == 200
        async with httpx.AsyncClient(base_url=origin, headers=AUTH) as other:
            assert (await other.get(TASKS, params={"sort_by": "nope"})).status_code == 422
    assert named(watch) == [("param", "updated_at[gt]", TASKS)]


async def test_an_in_process_request_is_named_once() -> None:
    async with salesloft() as (http, _):
        with watching() as watch:
            await http.client.get(ORIGIN + TASKS, params=OFF)
    assert [(v.kind, v.name) for v in watch.broken] == [("param", "updated_at[gt]")]


async def test_a_parameter_given_twice_is_caught() -> None:
    """Rails keeps the last of ``per_page=5&per_page=100`` (an array is ``name[]``): a
    parameter given twice (httpx sends a list value so) is not what the contract lists."""
    async with salesloft() as (http, _):
        with watching() as watch:
            await http.client.get(ORIGIN + TASKS, params={"per_page": ["5", "100"]})
            await http.client.get(ORIGIN + "/v2/people.json", params={"ids": ["1", "2"]})
            ok = await http.client.get(ORIGIN + "/v2/people.json", params={"ids[]": ["1", "2"]})
    assert ok.status_code == 200
    assert named(watch) == [
        ("param", "per_page", TASKS),
        ("param", "ids", "/v2/people.json"),
    ]
    assert all("more than once" in v.rule for v in rules(watch))


async def test_a_body_on_a_delete_or_a_get_is_caught() -> None:
    async with salesloft() as (http, app):
        note = min(app.state.db.tables["notes"])
        with watching() as watch:
            await http.client.request("GET", ORIGIN + TASKS, json={"current_state": "x"})
            await http.client.request(
                "DELETE", f"{ORIGIN}/v2/notes/{note}.json", json={"content": "x"}
            )
    assert [(v.kind, v.method) for v in rules(watch)] == [("field", "GET"), ("field", "DELETE")]
    assert all("takes none" in v.rule for v in rules(watch))


async def test_a_body_the_contract_cannot_read_is_caught() -> None:
    """A multipart upload to an endpoint with declared fields was read as no body at all,
    so none of its fields was checked."""
    async with salesloft() as (http, _):
        with watching() as watch:
            await http.client.post(
                ORIGIN + "/v2/notes.json",
                data={"content": "x", "colour": "red"},
                files={"attachment": ("a.txt", b"hello", "text/plain")},
            )
    [broken] = rules(watch)
    assert broken.kind == "field" and "cannot read" in broken.rule
    assert "multipart/form-data" in broken.rule


async def test_a_body_that_is_not_an_object_is_caught() -> None:
    async with salesloft() as (http, _):
        with watching() as watch:
            await http.client.post(ORIGIN + "/v2/notes.json", json=[{"colour": "red"}])
    [broken] = rules(watch)
    assert broken.kind == "field" and "not an object" in broken.rule


async def test_a_key_beside_the_wrapped_record_is_caught() -> None:
    """ActiveCampaign's writes take the record under one key (``{"deal": {...}}``); a key
    beside it was never looked at."""
    http = Http()
    origin = "http://activecampaign.localhost"
    http.mount_app(origin, sandbox.create_app("activecampaign", rate_limit=False))
    try:
        with watching() as watch:
            await http.client.post(
                origin + "/api/3/deals/1/notes",
                json={"note": {"note": "hello"}, "colour": "red"},
                headers={"Api-Token": "sandbox"},
            )
    finally:
        await http.aclose()
    assert [(v.kind, v.name) for v in rules(watch)] == [("field", "colour")]


async def test_an_id_that_is_a_dot_segment_is_caught() -> None:
    """An id of ``..`` (sent encoded, as httpx resolves a plain one before sending) fills
    the template's ``{id}``, but the vendor's server resolves it: another endpoint."""
    async with salesloft() as (http, _):
        with watching() as watch:
            await http.client.get(ORIGIN + "/v2/people/%2E%2E")
    assert [(v.kind, v.path) for v in rules(watch)] == [("path", "/v2/people/..")]
    assert "dot segment" in rules(watch)[0].rule


async def test_a_mark_naming_the_request_sent_on_purpose_excuses_only_that_one() -> None:
    """A bare ``off_contract`` mark turned the watch off for the whole test: a test that
    sends one wrong request on purpose (a create without its required field) let every
    other request of the test leave the contract unseen. A mark naming the rule excuses
    that rule only."""
    async with salesloft() as (http, _):
        with watching() as watch:
            await http.client.get(ORIGIN + TASKS, params=OFF)  # on purpose
            await http.client.get(ORIGIN + TASKS, params={"per_page": ["5", "100"]})
    report = unexcused(watch, ["salesloft: GET /v2/me.json: param 'x' — a child's"], ("[gt]'",))
    assert "updated_at[gt]" not in report
    assert "param 'per_page'" in report and "a child's (a child process)" in report
    assert "updated_at[gt]" in unexcused(watch, [], None)  # no mark: all of them
    assert unexcused(watch, [], ()) == ""  # a bare mark: the whole test


CHILD = """
import asyncio
from crmtui import sandbox
from crmtui.http import Http

async def main():
    http = Http()
    http.mount_app("http://salesloft.localhost", sandbox.create_app("salesloft"))
    await http.client.get(
        "http://salesloft.localhost/v2/tasks.json",
        params={"updated_at[gt]": "2020-01-01T00:00:00Z"},
        headers={"Authorization": "Bearer sandbox"},
    )
    await http.aclose()

asyncio.run(main())
"""


def test_crmtui_in_a_child_process_with_its_own_sandbox_is_checked() -> None:
    """``crmtui serve --demo`` and the crash tests run crmtui and its sandboxes in a
    child process: nothing there passed this process's watch. The child holds itself to
    the contracts and writes what it broke for the test that started it."""
    with children_watched() as by_children:
        done = subprocess.run(
            [sys.executable, "-c", CHILD],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = by_children()
    assert done.returncode == 0, done.stderr
    assert len(lines) == 1, lines
    assert "salesloft: GET /v2/tasks.json: param 'updated_at[gt]'" in lines[0]
