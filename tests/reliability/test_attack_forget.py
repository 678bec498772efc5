"""Forgetting a profile, attacked from the outside.

The promise (``crmtui forget PROFILE``, ``Store.delete_profile``): once forgotten,
nothing of that profile stays in the cache file or comes back (its records and what they
said, the search index, timelines, the outbox, sync bookkeeping, field specs, kinds, its
name), and nothing of any other profile is lost; the running service keeps working and
shows the truth. Reads and sends in flight are made exact with ``HeldReply``: the vendor
answers at once, the reply reaches crmtui only after the forget.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak import PLANS
from crmtui import cli, locations, sandbox
from crmtui.api import MAX_PER_PAGE, Client
from crmtui.http import Http
from crmtui.model import (
    Activity,
    Change,
    ChangeOp,
    ChangeState,
    FieldSpec,
    FieldType,
    KindInfo,
    Query,
    Record,
    RecordRef,
    utcnow,
)
from crmtui.service import Crm, Event
from crmtui.service.events import Notice
from crmtui.service.undo import CannotUndo
from crmtui.store import Store, db
from tests.helpers.gates import HeldReply, Matches
from tests.helpers.processes import ROOT, WAIT, kill, running
from tests.helpers.service import ORIGIN, VENDOR, make_profile, unpaced
from tests.helpers.waits import no_sleep

GONE = "zz-gone"  # the profile forgotten
KEPT = "zz-kept"  # another profile on the same cache, kept
DEALS = "/api/3/deals"


def file_bytes(path: Path) -> bytes:
    """Everything on disk for the cache: the file, its WAL and its shared memory."""
    parts = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
    return b"".join(p.read_bytes() for p in parts if p.exists())


KEPT_ORIGIN = "http://kept.localhost"


def orphans(store: Store) -> dict[str, int]:
    """Rows kept beside a record (its raw payload, its preview, its search-index marks)
    whose record is gone: what a forget would leave without naming the profile. Read on
    the store's own connection."""
    tables = ("records_raw", "records_preview", "records_fts_whole", "records_fts_titles_whole")
    with store._db.read() as conn:
        found = {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE rec NOT IN (SELECT rowid FROM records)"
            ).fetchone()[0]
            for table in tables
        }
    return {table: n for table, n in found.items() if n}


@dataclass
class Two:
    """A service with two ActiveCampaign profiles on one cache file, each over its own
    sandbox (accounts with other data); every request of ``GONE`` goes through ``gate``
    (a ``HeldReply`` disarmed until a test arms it)."""

    crm: Crm
    app: Any
    kept_app: Any
    gate: HeldReply
    path: Path
    events: list[Event] = field(default_factory=list)  # all the service emitted

    def hold(self, matches: Matches) -> HeldReply:
        """Hold the reply to the next request that ``matches`` (a fresh gate)."""
        self.gate = HeldReply(self.app, matches)
        self.crm.http.mount_app(ORIGIN, self.gate)
        return self.gate

    def ref(self, profile: str, id: str, kind: str = "deal") -> RecordRef:
        return RecordRef(profile=profile, kind=kind, id=id)

    @property
    def store(self) -> Store:
        return self.crm.store

    async def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``crmtui ARGS`` run in a process of its own, on this cache."""
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "crmtui", *args],
            cwd=ROOT,
            env={**os.environ, "CRMTUI_HOME": str(self.path.parent.parent)},
            capture_output=True,
            text=True,
            timeout=WAIT,
        )

    def notices(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Notice)]

    async def load(self, profile: str) -> list[Record]:
        """Cache a profile's deals and their fields, as opening its list does."""
        page = await self.crm.refresh(profile, "deal", Query(per_page=100))
        await self.crm.fields(profile, "deal")
        return page.records

    def forget(self, profile: str = GONE) -> None:
        """``crmtui forget`` in another process: its own connection to the file."""
        other = Store(self.path)
        try:
            other.delete_profile(profile)
        finally:
            other.close()

    def holds_nothing_of_gone(self) -> None:
        """Nothing of the forgotten profile is left: not its rows, not its name."""
        store = self.store
        assert store.count(GONE, "deal") == 0
        assert store.window(GONE, "deal", offset=0, limit=10) == []
        assert store.get_fields(GONE, "deal") is None
        assert store.get_kinds(GONE) is None
        assert store.get_sync_state(GONE, "deal") is None
        assert store.last_synced(GONE) is None
        assert store.changes(profile=GONE) == []
        assert GONE.encode() not in file_bytes(self.path)
        assert orphans(store) == {}


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[Two]:
    app, kept_app = (sandbox.create_app(VENDOR, seed=seed) for seed in (0, 1))
    for each in (app, kept_app):
        each.state.limit.enabled = False
    gate = HeldReply(app, lambda *_: False, armed=False)
    http = Http(sleep=no_sleep)
    http.mount_app(ORIGIN, gate)
    http.mount_app(KEPT_ORIGIN, kept_app)
    path = tmp_path / "home" / "cache" / "cache.sqlite3"  # crmtui's, CRMTUI_HOME=home
    path.parent.mkdir(parents=True)
    profiles = [make_profile(name=GONE), make_profile(KEPT_ORIGIN, name=KEPT)]
    crm = Crm(Store(path), http, profiles)
    for profile in (GONE, KEPT):
        unpaced(crm, profile)
    crm.outbox.check_delays = (0.01, 0.03)
    made = Two(crm, app, kept_app, gate, path)
    crm.subscribe(made.events.append)
    yield made
    made.gate.release()
    await crm.close()
    await http.aclose()
    crm.store.close()


async def forget_while_held(two: Two, matches: Matches, step: Awaitable[Any]) -> Any:
    """Run ``step`` until the vendor has answered its request that ``matches``, forget
    ``GONE`` (another process) while the reply is held, then let the reply go."""
    gate = two.hold(matches)
    running = asyncio.ensure_future(step)
    try:
        await gate.answered()
        two.forget()
    finally:
        gate.release()
    return await running


def first_get(path_part: str) -> Matches:
    return lambda method, path, query: method == "GET" and path_part in path


# -- what stays in the file -------------------------------------------------------------


async def test_what_the_forgotten_records_said_is_not_left_in_the_file(two: Two) -> None:
    """The words of a forgotten record (its title, its fields) are not in the file:
    not in the search index either, which kept every term of a deleted row."""
    deal = next(iter(two.app.state.db.deals.values()))
    deal["title"] = "Qzxwvfirstword deal"  # renamed below: both names were indexed
    await two.load(GONE)
    kept = await two.load(KEPT)
    deal["title"] = "Qzxwvsecondword deal"
    await two.crm.refresh(GONE, "deal", Query(per_page=100))
    assert [r.id for r in two.crm.search("Qzxwvsecondword", profiles=[GONE])] == [deal["id"]]
    words = [b"Qzxwvfirstword", b"qzxwvfirstword", b"Qzxwvsecondword", b"qzxwvsecondword"]
    assert any(w in file_bytes(two.path) for w in words)

    two.forget()

    assert [w for w in words if w in file_bytes(two.path)] == []
    two.holds_nothing_of_gone()
    assert two.store.count(KEPT, "deal") == len(kept)
    hit = kept[0].title.split()[0]
    assert two.crm.search(hit, profiles=[KEPT]), "the kept profile's search still works"


# -- reads in flight ----------------------------------------------------------------------


async def test_field_specs_read_in_flight_when_the_profile_is_forgotten_stay_forgotten(
    two: Two,
) -> None:
    """The fields of a kind, asked of the vendor as the profile is forgotten, are not
    stored back under its name."""
    await two.load(KEPT)
    specs = await forget_while_held(
        two, first_get("/api/3/"), two.crm.fields(GONE, "deal", refresh=True)
    )

    assert specs, "the caller still gets what the vendor answered"
    two.holds_nothing_of_gone()
    assert two.store.get_fields(KEPT, "deal")


async def test_kinds_read_in_flight_when_the_profile_is_forgotten_stay_forgotten(
    rigs: Callable[..., Any],
) -> None:
    """A vendor whose kinds are read from it (Freshsales' filters): read as the profile
    is forgotten, they are not stored back."""
    rig = rigs("freshsales")
    store = rig.crm.store
    assert store.path is not None
    gate = HeldReply(rig.app, lambda method, path, query: "filters" in path)
    rig.crm.http.mount_app("http://freshsales.localhost", gate)
    reading = asyncio.ensure_future(rig.crm.kinds("freshsales", refresh=True))
    try:
        await gate.answered()
        other = Store(store.path)
        other.delete_profile("freshsales")
        other.close()
    finally:
        gate.release()
    assert await reading

    assert store.get_kinds("freshsales") is None


# -- the outbox: a send whose reply comes after the forget -------------------------------


async def _queue(two: Two, op: str, deal: Record) -> Any:
    crm = two.crm
    if op == "edit":
        return await crm.edit(deal.ref, {"amount": "4321"})
    if op == "note":
        return await crm.add_note(deal.ref, "Spoke to them, a pilot next week")
    if op == "delete":
        return await crm.delete(deal.ref)
    plan = PLANS[VENDOR]  # its create needs a contact no form field gives: queued as is
    values = plan.create_values("Forgotten deal", two.app.state.db)
    ref = RecordRef(profile=GONE, kind=plan.create_kind, id="new")
    return crm.store.enqueue(Change(ref=ref, op=ChangeOp.CREATE, values=values))


def _write(method: str, path: str, query: str) -> bool:
    return method != "GET"


async def sent_across_the_forget(two: Two) -> list[str]:
    """Send ``GONE``'s queued changes (the outbox paused until now), forgetting ``GONE``
    while the vendor's reply to the first write is held; the notices shown meanwhile."""
    two.crm.outbox.paused = False
    before = len(two.notices())

    async def send() -> None:
        await two.crm.outbox.flush(GONE)
        await two.crm.outbox.wait_idle()

    await forget_while_held(two, _write, send())
    return two.notices()[before:]


@pytest.mark.parametrize("op", ["edit", "note", "delete", "create"])
async def test_a_send_answered_after_the_forget_leaves_nothing_and_shows_no_error(
    two: Two, op: str
) -> None:
    """An edit (note, delete, create) of the profile is sent; the vendor applies it and
    its reply comes after the profile was forgotten: nothing of it is stored back, no
    error is shown for an edit that reached the vendor, and the outbox goes on sending
    the other profile's edits."""
    gone = await two.load(GONE)
    kept = await two.load(KEPT)
    two.crm.outbox.paused = True
    change = await _queue(two, op, gone[0])
    assert change is not None

    assert await sent_across_the_forget(two) == []  # no notice
    two.holds_nothing_of_gone()
    edit = await two.crm.edit(kept[0].ref, {"amount": "77"})
    assert edit is not None
    await two.crm.outbox.flush(KEPT)
    await two.crm.outbox.wait_idle()
    sent = two.store.get_change(edit.id)
    assert sent is not None and sent.state is ChangeState.DONE
    assert two.kept_app.state.db.deals[kept[0].id]["value"] == "7700"


# -- crmtui forget, the command ------------------------------------------------------------


def _cached(path: Path) -> None:
    """A cache with a deal of ``GONE`` and one of ``KEPT``, each with its own words."""
    store = Store(path)
    try:
        for profile, word in ((GONE, "Qzxwvgoneword"), (KEPT, "Keptword")):
            record = Record(
                vendor=VENDOR,
                profile=profile,
                kind="deal",
                id="1",
                title=f"{word} deal",
                fields={"notes": f"{word} notes"},
                raw={"title": f"{word} deal"},
            )
            store.upsert_records([record])
    finally:
        store.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRMTUI_HOME", str(tmp_path / "home"))
    path = locations.cache_db()
    path.parent.mkdir(parents=True)
    return path


def test_forget_while_another_program_reads_the_cache_says_so_and_again_wipes_it(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crmtui running elsewhere is mid-read (its read transaction open) for longer than
    the forget waits: the file's pages it may still read cannot be overwritten, so the
    forgotten words stay in the file. The command says so (not "Forgot" alone, exit 0),
    and run again once the reader is done, wipes them."""
    monkeypatch.setattr(db, "BUSY_S", 0.05)  # how long the forget waits for the reader
    _cached(home)
    reader = sqlite3.connect(home)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM records").fetchone() == (2,)

        assert cli.main(["forget", GONE]) == 1
        out, err = capsys.readouterr()
        assert f"Forgot the cached data of {GONE!r}" in out
        assert "again" in err and "Traceback" not in err
        store = Store(home)
        assert store.count(GONE, "deal") == 0 and store.count(KEPT, "deal") == 1
        store.close()
    finally:
        reader.close()

    assert cli.main(["forget", GONE]) == 0
    data = file_bytes(home)
    assert b"Qzxwvgoneword" not in data and b"qzxwvgoneword" not in data
    assert GONE.encode() not in data
    assert b"Keptword" in data


NEIGHBOURS = ["a_b", "axb", "a%", "ab", "a", "A", "a*", "a[b]", "a.b", "a b", "ä", "a\\b"]


@pytest.mark.parametrize("gone", ["a_b", "a%", "A", "a", "a*", "a[b]", "ä"])
def test_forget_takes_that_profile_only_not_its_look_alikes(tmp_path: Path, gone: str) -> None:
    """Names a LIKE or GLOB pattern, a prefix, a case fold or an accent fold would match,
    forgotten twice: every other profile keeps all it had (records, search, timelines, fields, kinds, sync
    bookkeeping, queued edits)."""
    store = Store(tmp_path / "cache.sqlite3")
    try:
        for n, profile in enumerate(NEIGHBOURS):
            ref = RecordRef(profile=profile, kind="deal", id="1")
            word = f"Word{n}x"
            store.upsert_records(
                [Record(vendor=VENDOR, profile=profile, kind="deal", id="1", title=word)],
                synced_at=utcnow(),
            )
            note = Activity(id="n1", occurred_at=utcnow(), summary=word, body=word)
            store.put_timeline(ref, [note])
            store.put_fields(profile, "deal", [FieldSpec(key="amount", label=word)])
            store.put_kinds(profile, [KindInfo(kind="deal", label=word, singular=word)])
            store.put_sync_state(profile, "deal", {"cursor": word})
            store.enqueue(Change(ref=ref, op=ChangeOp.UPDATE, values={"amount": n}))

        store.delete_profile(gone)
        assert store.delete_profile(gone)  # twice: nothing more goes

        for n, profile in enumerate(NEIGHBOURS):
            ref = RecordRef(profile=profile, kind="deal", id="1")
            word = f"Word{n}x"
            if profile == gone:
                assert store.count(profile, "deal") == 0
                assert store.get_timeline(ref) is None
                assert store.get_fields(profile, "deal") is None
                assert store.get_kinds(profile) is None
                assert store.get_sync_state(profile, "deal") is None
                assert store.changes(profile=profile) == []
                assert store.search(word) == []
                continue
            assert store.count(profile, "deal") == 1, profile
            assert [r.profile for r in store.search(word)] == [profile]
            assert [a.body for a in store.get_timeline(ref) or []] == [word]
            assert [s.label for s in store.get_fields(profile, "deal") or []] == [word]
            assert [k.label for k in store.get_kinds(profile) or []] == [word]
            assert store.get_sync_state(profile, "deal") == {"cursor": word}
            assert [c.values for c in store.changes(profile=profile)] == [{"amount": n}]
            assert store.last_synced(profile) is not None
    finally:
        store.close()


# -- the running app's lists -----------------------------------------------------------


def _deals(profile: str, n: int, word: str) -> list[Record]:
    return [
        Record(vendor=VENDOR, profile=profile, kind="deal", id=str(i), title=f"{word} {i:03}")
        for i in range(n)
    ]


def test_a_list_order_built_before_the_forget_is_not_used_after_it(tmp_path: Path) -> None:
    """The running app built a list's order (``prepare_list``); ``crmtui forget`` (another
    process) forgets the profile; the app's next sync stores the profile's deals again:
    the list shows them, not the rows of the order built before the forget."""
    path = tmp_path / "cache.sqlite3"
    app = Store(path)
    try:
        app.upsert_records(_deals(GONE, 40, "Old"))
        app.upsert_records(_deals(KEPT, 5, "Kept"))
        assert app.prepare_list(GONE, "deal") == 40
        assert [r.title for r in app.window(GONE, "deal", offset=0, limit=2)] == [
            "Old 000",
            "Old 001",
        ]
        other = Store(path)
        other.delete_profile(GONE)
        other.close()
        assert app.window(GONE, "deal", offset=0, limit=2) == []

        app.upsert_records(_deals(GONE, 40, "New"))  # the app's sync, after

        assert app.count(GONE, "deal") == 40
        shown = [r.title for r in app.window(GONE, "deal", offset=0, limit=40)]
        assert shown == [f"New {i:03}" for i in range(40)]
    finally:
        app.close()


# -- kill -9 in the middle of a forget ----------------------------------------------------


def child() -> None:
    """Subprocess entry point: forget ``GONE`` from the cache ``sys.argv[1]`` names, and
    stop dead in the middle (some rows deleted, the transaction open): say "in" and wait
    for the SIGKILL."""
    job = json.loads(sys.argv[1])
    store = Store(job["path"])
    conn = store._db.conn
    start = conn.total_changes

    def pause() -> int:
        if conn.in_transaction and conn.total_changes - start >= 20:
            print("in", flush=True)
            threading.Event().wait()  # until killed
        return 0

    conn.set_progress_handler(pause, 100)
    store.delete_profile(GONE)
    print("done", flush=True)


def test_a_forget_killed_midway_forgets_nothing_and_a_forget_again_does_it_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cache.sqlite3"
    store = Store(path)
    store.upsert_records(_deals(GONE, 200, "Qzxwvgoneword"))
    store.upsert_records(_deals(KEPT, 50, "Keptword"))
    store.close()

    with running({"path": str(path)}, __name__) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "in\n", proc.stderr
        kill(proc)

    store = Store(path)
    try:
        assert store.integrity_check() == "ok"
        assert store.count(GONE, "deal") == 200  # nothing half-forgotten
        assert len(store.search("Qzxwvgoneword", limit=500)) == 200
        assert store.count(KEPT, "deal") == 50
        assert store.delete_profile(GONE)
        assert store.count(GONE, "deal") == 0 and store.count(KEPT, "deal") == 50
        assert len(store.search("Keptword", limit=500)) == 50
    finally:
        store.close()
    data = file_bytes(path)
    assert b"qzxwvgoneword" not in data.lower() and GONE.encode() not in data


async def test_the_running_app_shows_the_forget_and_its_next_sync_brings_all_back(
    two: Two,
) -> None:
    """``crmtui forget`` in another process while the app runs: the app's lists and
    search show none of the profile at once, the other profile's are untouched, and the
    app's next sync of the profile (its cursor forgotten too) reads it whole again."""
    await two.load(KEPT)
    await two.crm.sync(GONE, ["deal"])
    await two.crm.sync(KEPT, ["deal"])
    deals = len(two.app.state.db.deals)
    kept = two.crm.count(KEPT, "deal")
    assert two.crm.count(GONE, "deal") == deals
    some = two.crm.window(GONE, "deal", offset=0, limit=1)[0]

    two.forget()

    assert two.crm.count(GONE, "deal") == 0
    assert two.crm.window(GONE, "deal", offset=0, limit=50) == []
    assert two.crm.cached(some.ref) is None
    assert [r for r in two.crm.search(some.title) if r.profile == GONE] == []
    assert two.crm.count(KEPT, "deal") == kept

    await two.crm.sync(GONE, ["deal"])

    assert two.crm.count(GONE, "deal") == deals
    listed = two.crm.window(GONE, "deal", offset=0, limit=deals + 10)
    assert {r.id for r in listed} == set(two.app.state.db.deals)
    assert two.crm.count(KEPT, "deal") == kept


async def test_a_bulk_edit_under_way_when_the_profile_is_forgotten_queues_no_more(
    two: Two,
) -> None:
    """A bulk edit of ten deals is being queued when ``crmtui forget`` (another process)
    forgets the profile, right after its first edit: the rest are not queued for a
    profile that is gone (its outbox stays empty), and nothing reaches the vendor."""
    gone = await two.load(GONE)
    two.crm.outbox.paused = True
    plan = await two.crm.bulk.plan(GONE, "deal", [r.id for r in gone[:10]], "amount", "999")
    assert len(plan.changes) == 10

    forgotten: list[int] = []

    def forget_after_the_first(event: Event) -> None:
        if not forgotten and two.store.changes(profile=GONE):
            forgotten.append(len(two.store.changes(profile=GONE)))
            two.forget()

    two.crm.subscribe(forget_after_the_first)
    await two.crm.bulk.apply(plan)
    assert forgotten == [1]
    two.crm.outbox.paused = False
    await two.crm.outbox.flush(GONE)
    await two.crm.outbox.wait_idle()

    assert two.store.changes(profile=GONE) == []
    assert [d["id"] for d in two.app.state.db.deals.values() if d["value"] == "99900"] == []
    two.holds_nothing_of_gone()


async def test_an_edit_discarded_before_the_forget_is_not_brought_back_by_undo(
    two: Two,
) -> None:
    """The user discards a queued edit (the app keeps it to undo the discard), then the
    profile is forgotten (another process): undoing the discard puts nothing of the
    forgotten profile back in the outbox, and nothing reaches the vendor."""
    gone = await two.load(GONE)
    two.crm.outbox.paused = True
    change = await two.crm.edit(gone[0].ref, {"amount": "4321"})
    assert change is not None
    assert [c.id for c in two.crm.discard(change.id)] == [change.id]
    assert two.crm.can_undo_discard

    two.forget()
    with contextlib.suppress(CannotUndo):
        two.crm.undo_discard()
    two.crm.outbox.paused = False
    await two.crm.outbox.flush(GONE)
    await two.crm.outbox.wait_idle()

    assert two.store.changes(profile=GONE) == []
    assert two.app.state.db.deals[gone[0].id]["value"] != "432100"
    two.holds_nothing_of_gone()


async def test_a_sync_under_way_stores_no_more_pages_of_a_profile_forgotten_meanwhile(
    two: Two,
) -> None:
    """A sync of the profile reads it page by page; the profile is forgotten (another
    process) while its first page's reply is held: neither that page nor any page the
    sync asks for after stores the profile back."""
    await two.crm.kinds(GONE)

    def first_page(method: str, path: str, query: str) -> bool:
        return path == DEALS and "offset=0" in query and "updated_after" in query  # not the plan

    await forget_while_held(two, first_page, two.crm.sync(GONE, ["deal"], per_page=5))

    two.holds_nothing_of_gone()


async def test_a_notebook_reading_many_pages_stores_none_after_the_profile_is_forgotten(
    two: Two,
) -> None:
    """``Client.records`` reads a kind page after page; the profile is forgotten while
    its first page's reply is held: the pages it would read after are not stored."""
    client = await Client(two.crm, GONE)
    deals = len(two.app.state.db.deals)
    assert deals > MAX_PER_PAGE  # more than one page

    def first_page(method: str, path: str, query: str) -> bool:
        return path == DEALS and "offset=0" in query

    await forget_while_held(two, first_page, client.records("deal", limit=deals))

    two.holds_nothing_of_gone()


def refused_whole(home: Path, capsys: pytest.CaptureFixture[str], why: str) -> None:
    """``crmtui forget`` printed one line saying ``why``, no "Forgot", and the cache
    (``_cached``) is whole: nothing half-forgotten."""
    out, err = capsys.readouterr()
    assert "Forgot" not in out and "Traceback" not in err
    assert why in err and len(err.strip().splitlines()) == 1
    store = Store(home)
    try:
        assert store.count(GONE, "deal") == 1 and store.count(KEPT, "deal") == 1
        assert [r.profile for r in store.search("Qzxwvgoneword")] == [GONE]
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_forget_on_a_full_disk_says_so_and_forgets_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The disk is full (the file may not grow by a page): ``crmtui forget`` fails with
    the cache's one line, exit 1, and nothing is half-forgotten."""
    _cached(home)
    opened = db.connect

    def full(path: str | Path) -> sqlite3.Connection:
        conn = opened(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(db, "connect", full)
    assert cli.main(["forget", GONE]) == 1
    monkeypatch.setattr(db, "connect", opened)

    refused_whole(home, capsys, "disk is full")


READS: dict[str, tuple[Callable[[str], Matches], Callable[[Crm, Record], Awaitable[Any]]]] = {
    "list": (
        lambda id: first_get(DEALS),
        lambda crm, deal: crm.refresh(GONE, "deal", Query(per_page=100)),
    ),
    "vendor search": (
        lambda id: first_get(DEALS),
        lambda crm, deal: crm.refresh(GONE, "deal", Query(search=deal.title.split()[0])),
    ),
    "record": (lambda id: first_get(f"{DEALS}/{id}"), lambda crm, deal: crm.get(deal.ref)),
    "timeline": (lambda id: first_get(f"{DEALS}/{id}/"), lambda crm, deal: crm.timeline(deal.ref)),
}


@pytest.mark.parametrize("read", READS)
async def test_a_read_in_flight_when_the_profile_is_forgotten_stores_nothing_back(
    two: Two, read: str
) -> None:
    """A list page, a vendor search, a record or its timeline, asked for before the
    forget and answered after it: nothing of it is stored."""
    deal = (await two.load(GONE))[0]
    kept = await two.load(KEPT)
    matches, step = READS[read]
    gate = two.hold(matches(deal.id))
    running = asyncio.ensure_future(step(two.crm, deal))
    try:
        await gate.answered()
        two.forget()
    finally:
        gate.release()
    with contextlib.suppress(Exception):  # what the caller gets is not the point here
        await running

    two.holds_nothing_of_gone()
    assert two.crm.cached_timeline(deal.ref) is None
    assert two.store.count(KEPT, "deal") == len(kept)


# -- what earlier versions leave in the file --------------------------------------------


def _edited_twice(path: Path) -> None:
    """``GONE``'s deals (on the same pages as ``KEPT``'s), each stored, then edited: the
    first versions' words are freed space in the file unless it was zeroed."""
    store = Store(path)
    try:
        for i in range(120):
            store.upsert_records(
                [
                    Record(vendor=VENDOR, profile=KEPT, kind="deal", id=str(i), title=f"K {i}"),
                    Record(
                        vendor=VENDOR,
                        profile=GONE,
                        kind="deal",
                        id=str(i),
                        title=f"Qzxwvoldtitle{i:03}",
                        fields={"notes": f"Qzxwvoldnote{i:03} of the deal"},
                    ),
                ]
            )
        store.upsert_records(_deals(GONE, 120, "New"))
    finally:
        store.close()


@pytest.mark.parametrize("default", ["on", "off"])
def test_what_the_forgotten_records_said_before_an_edit_is_not_left_in_free_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default: str
) -> None:
    """Records of the profile edited before the forget: their earlier versions' words
    (and the profile's name, in the freed index cells) are not left in the file, also
    with an SQLite built not to zero freed space by default (as many are: "off")."""
    opened = db.connect

    def connect(path: str | Path) -> sqlite3.Connection:
        conn = opened(path)
        conn.execute(f"PRAGMA secure_delete = {default.upper()}")  # as SQLite was built
        return conn

    monkeypatch.setattr(db, "connect", connect)
    path = tmp_path / "cache.sqlite3"
    _edited_twice(path)
    store = Store(path)
    try:
        store.delete_profile(GONE)
        assert store.count(KEPT, "deal") == 120
    finally:
        store.close()
    data = file_bytes(path).lower()
    assert [w for w in (b"qzxwvoldtitle", b"qzxwvoldnote", GONE.encode()) if w in data] == []


def test_after_a_forget_the_process_still_zeroes_what_it_frees(tmp_path: Path) -> None:
    """A forget in a long-lived process (a notebook): a record stored again after it does
    not leave its old version in the file (the forget left freed space unzeroed)."""
    path = tmp_path / "cache.sqlite3"
    store = Store(path)
    try:
        store.upsert_records(_deals(KEPT, 50, "Kept"))
        store.delete_profile(GONE)
        for url in ("Qzxwvsecret" * 40, "o"):  # its link (not in the search index)
            record = Record(vendor=VENDOR, profile=KEPT, kind="deal", id="7", title="K")
            store.upsert_records([record.model_copy(update={"remote_url": f"https://x/{url}"})])
    finally:
        store.close()
    assert b"qzxwvsecret" not in file_bytes(path).lower()


async def test_crmtui_forget_in_another_process_while_the_app_runs(two: Two) -> None:
    """The command itself, run in a process of its own beside the running app (its
    store open, a timeline read and an edit queued): the app shows none of the profile,
    the file holds none of it, and the app goes on writing and sending."""
    gone = await two.load(GONE)
    kept = await two.load(KEPT)
    await two.crm.timeline(gone[0].ref)
    two.crm.outbox.paused = True
    assert await two.crm.edit(gone[1].ref, {"amount": "4321"}) is not None

    done = await two.command("forget", GONE)

    assert (done.returncode, done.stderr) == (0, "")
    assert f"Forgot the cached data of {GONE!r}" in done.stdout
    two.holds_nothing_of_gone()
    assert two.crm.cached_timeline(gone[0].ref) is None
    two.crm.outbox.paused = False
    edit = await two.crm.edit(kept[0].ref, {"amount": "77"})
    assert edit is not None
    await two.crm.outbox.flush(KEPT)
    await two.crm.outbox.flush(GONE)
    await two.crm.outbox.wait_idle()
    sent = two.store.get_change(edit.id)
    assert sent is not None and sent.state is ChangeState.DONE
    assert two.app.state.db.deals[gone[1].id]["value"] != "432100"
    two.holds_nothing_of_gone()


async def test_edits_queued_behind_the_one_in_flight_are_not_sent_after_the_forget(
    two: Two,
) -> None:
    """Three edits queued; the first is being sent when the profile is forgotten: the
    two behind it never reach the vendor (they were forgotten with the outbox)."""
    gone = await two.load(GONE)
    was = [two.app.state.db.deals[d.id]["value"] for d in gone[:3]]
    two.crm.outbox.paused = True
    for n, deal in enumerate(gone[:3]):
        assert await two.crm.edit(deal.ref, {"amount": str(1000 + n)}) is not None

    assert await sent_across_the_forget(two) == []  # no notice

    values = [two.app.state.db.deals[d.id]["value"] for d in gone[:3]]
    assert values[1:] == was[1:]
    assert values[0] == "100000"  # the one in flight had reached the vendor
    two.holds_nothing_of_gone()


def test_the_forgotten_profiles_field_names_leave_the_files_indexes(tmp_path: Path) -> None:
    """A list of the profile sorted and filtered by its own custom field: the indexes
    built for them spell the field's name, and go with the profile; the other profile's
    sort by a field of its own keeps working (and its index)."""
    path = tmp_path / "cache.sqlite3"
    store = Store(path)
    try:
        for profile, key in ((GONE, "cf_qzxwv_acquisition"), (KEPT, "cf_kept_region")):
            spec = FieldSpec(key=key, label=key, type=FieldType.NUMBER)
            store.put_fields(profile, "deal", [spec])
            store.upsert_records(
                [
                    Record(
                        vendor=VENDOR, profile=profile, kind="deal", id=str(i), title="D"
                    ).model_copy(update={"fields": {key: i % 7, "amount": i}})
                    for i in range(60)
                ]
            )
            assert len(store.window(profile, "deal", offset=0, limit=5, sort=key)) == 5
            assert store.count(profile, "deal", filters={key: "3"}) == 9
        store.delete_profile(GONE)

        by_region = store.window(KEPT, "deal", offset=0, limit=60, sort="cf_kept_region")
        assert [r.fields["cf_kept_region"] for r in by_region] == sorted(i % 7 for i in range(60))
        assert store.count(KEPT, "deal", filters={"cf_kept_region": "3"}) == 9
    finally:
        store.close()
    data = file_bytes(path)
    assert b"qzxwv" not in data
    assert b"cf_kept_region" in data


def test_a_forgotten_name_is_in_the_file_in_no_encoding(tmp_path: Path) -> None:
    """A profile whose name is not ASCII, with everything a profile leaves (records,
    a timeline, field specs, kinds, sync state, a change sent and one queued): after the
    forget its name is in the file, WAL and shared memory in no encoding crmtui or SQLite
    writes (UTF-8, JSON's \\u escapes, UTF-16)."""
    name = "zz-Zürich-Ωmega"
    path = tmp_path / "cache.sqlite3"
    store = Store(path)
    try:
        ref = RecordRef(profile=name, kind="deal", id="1")
        record = Record(vendor=VENDOR, profile=name, kind="deal", id="1", title=f"{name} deal")
        store.upsert_records([record], synced_at=utcnow())
        note = Activity(id="n1", occurred_at=utcnow(), summary=name, body=name)
        store.put_timeline(ref, [note])
        store.put_fields(name, "deal", [FieldSpec(key="amount", label=name)])
        store.put_kinds(name, [KindInfo(kind="deal", label=name, singular=name)])
        store.put_sync_state(name, "deal", {"cursor": name})
        sent = store.enqueue(Change(ref=ref, op=ChangeOp.UPDATE, values={"amount": 1}))
        assert store.claim(sent.id, "me", timedelta(minutes=1), utcnow()) is not None
        store.complete(sent.id, record, owner="me")
        store.enqueue(Change(ref=ref, op=ChangeOp.UPDATE, values={"amount": 2}))
        assert name.encode() in file_bytes(path) or json.dumps(name).encode() in file_bytes(path)

        assert store.delete_profile(name)
    finally:
        store.close()
    data = file_bytes(path)
    forms = {
        "utf-8": name.encode(),
        "json": json.dumps(name)[1:-1].encode(),
        "json, upper-case hex": json.dumps(name)[1:-1].upper().encode(),
        "utf-16-le": name.encode("utf-16-le"),
        "utf-16-be": name.encode("utf-16-be"),
        "the non-ASCII part": "Zürich-Ωmega".encode(),
    }
    assert [form for form, raw in forms.items() if raw in data] == []


def test_forget_while_another_program_writes_says_so_and_forgets_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crmtui running elsewhere holds the write lock longer than the forget waits (an
    index build, a long sync page): ``crmtui forget`` says the cache is locked, exits 1,
    and nothing is half-forgotten (nor the stored secret dropped: it did not print)."""
    monkeypatch.setattr(db, "BUSY_S", 0.05)
    _cached(home)
    writer = sqlite3.connect(home)
    try:
        writer.execute("BEGIN IMMEDIATE")
        assert cli.main(["forget", GONE]) == 1
    finally:
        writer.close()
    refused_whole(home, capsys, "locked")


def test_forget_names_the_damaged_copies_salvage_kept_aside(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``crmtui cache salvage`` keeps a damaged cache aside (never deleted), with all it
    held: the forget cannot wipe the profile from it, so it says where it is."""
    _cached(home)
    aside = home.with_name(f"{home.name}.damaged-20261201T000000Z")
    shutil.copyfile(home, aside)

    assert cli.main(["forget", GONE]) == 0

    out, err = capsys.readouterr()
    assert f"Forgot the cached data of {GONE!r}" in out
    assert str(aside) in err and "Traceback" not in err
    assert b"Qzxwvgoneword" in aside.read_bytes()  # left as it was: the user's
    assert b"Qzxwvgoneword" not in file_bytes(home)


def test_forget_on_a_cache_it_may_not_write_says_so_and_forgets_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache may be read but not written (emulated: SQLite's query_only, as a
    read-only file or folder is refused for any user, root included): one line, exit 1,
    nothing half-forgotten."""
    _cached(home)
    opened = db.connect

    def read_only(path: str | Path) -> sqlite3.Connection:
        conn = opened(path)
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(db, "connect", read_only)
    assert cli.main(["forget", GONE]) == 1
    monkeypatch.setattr(db, "connect", opened)

    refused_whole(home, capsys, str(home))


async def test_a_sync_of_several_kinds_goes_on_to_none_after_the_forget(two: Two) -> None:
    """A sync of deals then contacts; the profile is forgotten during the deals: the
    contacts, whose turn comes after, are not read into the cache either."""
    await two.crm.kinds(GONE)

    def first_page(method: str, path: str, query: str) -> bool:
        return path == DEALS and "offset=0" in query and "updated_after" in query  # not the plan

    await forget_while_held(two, first_page, two.crm.sync(GONE, ["deal", "contact"]))

    assert two.store.count(GONE, "contact") == 0
    two.holds_nothing_of_gone()


async def test_edits_the_app_queues_after_crmtui_forget_beside_it_are_seen_by_others(
    two: Two,
) -> None:
    """The running app has read a timeline aside (a second connection) when
    ``crmtui forget`` runs in another process, twice; each edit the app queues after is
    seen by ``crmtui cache check`` in a process of its own (the second was not: it saw
    1 of 2, the app writing where no other process reads)."""
    gone = await two.load(GONE)
    kept = await two.load(KEPT)
    await two.crm.timeline(gone[0].ref)  # read aside, on a connection of its own
    two.crm.outbox.paused = True

    for n, forgotten in enumerate((GONE, "zz-nobody")):
        assert (await two.command("forget", forgotten)).returncode == 0
        assert await two.crm.edit(kept[n].ref, {"amount": str(70 + n)}) is not None
        check = await two.command("cache", "check")
        assert len(two.store.changes(profile=KEPT)) == n + 1
        assert f"{n + 1} queued edit(s)" in check.stdout, (check.stdout, check.stderr)
