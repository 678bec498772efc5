"""An id never moves a request's path: every adapter call that puts an id into a path
(read, timeline, update, delete, note, a logged call's delete) keeps it as one segment,
whatever the id holds (``/``, ``?``, ``#``, ``..``), through ``mapping.path_id``.

Each call is driven through the adapter against the vendor's sandbox, recorded by a
middleware in front of it, once with an odd id and once with a plain one (neither is a
record there): the requests must be the same, the odd id in the very segment the plain
one is in (decoded, the id whole), and the query string untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from starlette.types import Receive, Scope, Send

from benchmarks.soak import VENDORS
from crmtui.http import CrmError
from crmtui.model import Change, ChangeOp, Query, RecordRef, utcnow
from crmtui.vendors.base import Vendor
from crmtui.vendors.mapping import Logged
from tests.helpers.reliability import build, close

PLAIN = "777000111"
NOW = utcnow()
ODD = {
    "slash": "777/../../users/1",
    "query": "777?limit=1",
    "fragment": "777#frag",
    "dot-dot": "..",
    "dot": ".",
    "all": "a/b?c=d#e/../f",
}


class Recorder:
    """Records each request's raw path and query string, then passes it to ``app``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode()
            path = raw.decode("ascii").split("?")[0]
            self.seen.append((scope["method"], path, scope["query_string"].decode("latin-1")))
        await self.app(scope, receive, send)


Call = Callable[[Vendor, RecordRef], Awaitable[Any]]

# calls that take an id elsewhere than a record's: a SalesSeek group's members (its id a
# filter, read first with GET groups/<id>)
MORE: dict[str, list[tuple[str, Call]]] = {
    "salesseek": [
        (
            "members of group_member",
            lambda a, r: a.list_page("group_member", Query(filters={"group": r.id})),
        )
    ],
}


def calls(adapter: Vendor, kinds: list[str]) -> list[tuple[str, Call]]:
    """Each adapter call that takes an id, on each kind."""
    made: list[tuple[str, Call]] = []
    for kind in kinds:
        made += [
            (f"get {kind}", lambda a, r: a.get(r.kind, r.id)),
            (f"timeline {kind}", lambda a, r: a.timeline(r.kind, r.id)),
            (f"delete {kind}", lambda a, r: a.delete(r)),
            (
                f"update {kind}",
                lambda a, r: a.update(Change(ref=r, op=ChangeOp.UPDATE, values={})),
            ),
        ]
        if adapter.notes.take(kind):
            made.append((f"note {kind}", lambda a, r: a.add_note(r, "A note")))
        if kind in adapter.activity_log.on or adapter.activity_log.anywhere:
            made.append(
                (
                    f"log a call {kind}",
                    lambda a, r: a.log_activity(r, Logged(activity="call", occurred_at=NOW)),
                )
            )
    if adapter.activity_log.deletable:
        kind = adapter.activity_log.on[0] if adapter.activity_log.on else kinds[0]
        made.append((f"delete a logged call on {kind}", lambda a, r: a.delete_logged(r, r.id)))
    return made + MORE.get(adapter.name, [])


async def drive(recorder: Recorder, adapter: Vendor, ref: RecordRef, call: Call) -> list[Any]:
    """The requests ``call`` makes, each as (method, path segments, query)."""
    recorder.seen.clear()
    with contextlib.suppress(CrmError):  # not found, refused: where it went matters
        await call(adapter, ref)
    return [(m, p.split("/"), q) for m, p, q in recorder.seen]


def as_plain(requests: list[Any], id: str) -> list[Any]:
    """``requests`` with each path segment that is ``id`` (decoded) written as ``PLAIN``,
    and so each query value (an id may be a query value, encoded there)."""
    return [
        (
            m,
            "/".join(PLAIN if unquote(s) == id else s for s in p),
            [(k, PLAIN if v == id else v) for k, v in parse_qsl(q, keep_blank_values=True)],
        )
        for m, p, q in requests
    ]


# the odd ids are sent on purpose: the contract reads the decoded path (the id's "/" and
# ".." as the path's), the wire keeps them escaped in one segment (asserted here)
@pytest.mark.off_contract("no documented endpoint has this path", "a dot segment")
@pytest.mark.parametrize("vendor", VENDORS)
async def test_an_id_stays_one_segment_of_the_path(tmp_path: Path, vendor: str) -> None:
    rig = build(vendor, tmp_path / "cache.sqlite3")
    try:
        adapter = rig.crm.adapter(vendor)
        kinds = [k.kind for k in await rig.crm.kinds(vendor)]
        recorder = Recorder(rig.app)
        rig.crm.http.mount_app(f"http://{vendor}.localhost", recorder)
        moved: list[str] = []
        driven = 0
        for name, call in calls(adapter, kinds):
            kind = name.split()[-1]
            ref = RecordRef(profile=vendor, kind=kind, id=PLAIN)
            await drive(recorder, adapter, ref, call)  # first: a login, settings read once
            plain = as_plain(await drive(recorder, adapter, ref, call), PLAIN)
            if not any(PLAIN in p for _, p, _ in plain):
                continue  # the call puts no id into a path
            driven += 1
            for label, odd in ODD.items():
                ref = RecordRef(profile=vendor, kind=kind, id=odd)
                seen = await drive(recorder, adapter, ref, call)
                if as_plain(seen, odd) != plain:
                    moved.append(f"{name} [{label}]: {[(m, '/'.join(p), q) for m, p, q in seen]}")
        assert driven, "some call puts an id into a path"
        assert moved == [], "\n".join(moved)
    finally:
        await close(rig)
