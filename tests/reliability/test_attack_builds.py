"""Built list orders, the held-off collector and the cache's open count, attacked from
the outside: what a user sees (a window, the collector, a probe's verdict) stays right
whatever happens around them."""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmtui import files
from crmtui.store import Store, positions
from crmtui.store.db import connect, in_use
from crmtui.store.health import probe
from crmtui.ui.widgets import record_table
from tests.helpers.waits import eventually_sync
from tests.store.factory import rec

P, K = "acme-fs", "deal"


def ids(found: list) -> list[str]:
    return [r.id for r in found]


def filled(path: Path, n: int = 60) -> Store:
    store = Store(path)
    store.upsert_records(
        [rec(str(i), f"Deal {i % 7}", kind=K, amount=f"{i % 9}.00") for i in range(1, n + 1)]
    )
    return store


def paged(store: Store, **options: object) -> list[str]:
    """The list as paging it shows (no built order: a fresh store on the same file)."""
    fresh = Store(Path(str(store._db.path)))
    try:
        return ids(fresh.window(P, K, offset=0, limit=10_000, **options))  # type: ignore[arg-type]
    finally:
        fresh.close()


def searched_as_paging(store: Store, text: str) -> None:
    """A search's count and windows (top, middle, end) are what paging it shows."""
    whole = paged(store, search=text, sort="amount")
    assert store.count(P, K, search=text) == len(whole)
    for offset in (0, 1, len(whole) // 2, max(0, len(whole) - 3)):
        got = ids(store.window(P, K, offset=offset, limit=4, search=text, sort="amount"))
        assert got == whole[offset : offset + 4]


def on_first_slice(monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]) -> list[int]:
    """Run ``action`` once, as a build turns its first slice of hex into rowids (after
    its walk, before its order is kept): the list of runs, for the test to check."""
    real = positions.binascii.unhexlify
    ran: list[int] = []

    def meanwhile(data: bytes) -> bytes:
        if not ran:
            ran.append(1)
            action()
        return real(data)

    monkeypatch.setattr(positions.binascii, "unhexlify", meanwhile)
    return ran


# -- 1. built orders ---------------------------------------------------------------------


def test_rows_written_by_another_store_mid_build_are_never_hidden_by_the_built_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another Store (one process, same file) adds and deletes rows while the order is
    turned into rowids: the order built from the older snapshot is not used after."""
    path = tmp_path / "c.sqlite3"
    app, other = filled(path), Store(path)

    def meanwhile() -> None:
        other.upsert_records([rec("900", "Deal 0", kind=K, amount="1.00")])
        other.mark_deleted(rec("5", "", kind=K).ref)

    monkeypatch.setattr(positions, "SLICE", 7)
    written = on_first_slice(monkeypatch, meanwhile)
    try:
        app.prepare_list(P, K, sort="amount", descending=True)
        assert written
        shown = ids(app.window(P, K, offset=0, limit=10_000, sort="amount", descending=True))
        assert "900" in shown and "5" not in shown
        assert shown == paged(app, sort="amount", descending=True)
        assert app.count(P, K) == len(shown)
    finally:
        other.close()
        app.close()


def test_a_store_closed_mid_build_keeps_no_order_and_a_second_store_reads_as_paging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Stores in one process: the one closed while its build turns hex into rowids
    keeps nothing; the other's own build (same file, same temporary table name on its
    own connection) is whole."""
    path = tmp_path / "c.sqlite3"
    first, second = filled(path), Store(path)
    monkeypatch.setattr(positions, "SLICE", 5)
    closed = on_first_slice(monkeypatch, first.close)
    try:
        assert first.prepare_list(P, K, sort="amount") == 0  # closed: nothing kept
        assert closed
        whole = paged(second, sort="amount")
        assert second.prepare_list(P, K, sort="amount") == len(whole)
        assert ids(second.window(P, K, offset=0, limit=10_000, sort="amount")) == whole
    finally:
        second.close()


def test_rowids_past_four_bytes_and_below_zero_written_after_a_build_read_as_paging(
    tmp_path: Path,
) -> None:
    """An order built while every rowid fitted 4 bytes, then another program rewrites
    rows with rowids far past that and below zero: windows show them, in order."""
    path = tmp_path / "c.sqlite3"
    app = filled(path)
    try:
        app.prepare_list(P, K, sort="amount")
        raw = sqlite3.connect(path, isolation_level=None)
        try:
            for rowid, source in ((2**40, 1), (-(2**35), 2)):  # (rewritten, a new title)
                raw.execute(
                    "UPDATE records SET rowid = ?, title = 'Deal 8' WHERE rowid = ?",
                    (rowid, source),
                )
        finally:
            raw.close()
        whole = paged(app, sort="amount")
        assert len(whole) == 60
        assert ids(app.window(P, K, offset=0, limit=10_000, sort="amount")) == whole
        assert app.prepare_list(P, K, sort="amount") == 60
        for offset in (0, 7, 30, 58):
            got = ids(app.window(P, K, offset=offset, limit=3, sort="amount"))
            assert got == whole[offset : offset + 3]
    finally:
        app.close()


def test_a_window_of_a_built_order_is_one_moment_of_the_list_while_another_store_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another Store deletes one row and renames another just after the app found its
    built order current: the window shows the list as it was or as it is, never a mix
    (a deleted row beside a renamed one)."""
    path = tmp_path / "c.sqlite3"
    app, other = filled(path), Store(path)
    options = {"sort": "amount", "descending": True}
    try:
        assert app.prepare_list(P, K, **options) == 60  # type: ignore[arg-type]

        def shown() -> list[tuple[str, str]]:
            found = app.window(P, K, offset=0, limit=100, **options)  # type: ignore[arg-type]
            return [(r.id, r.title) for r in found]

        before = shown()
        real = positions.version
        armed: list[int] = []

        def checked(conn: sqlite3.Connection, profile: str, kind: str) -> tuple[int, int]:
            found = real(conn, profile, kind)
            if not armed:
                armed.append(1)
                other.mark_deleted(rec("5", "", kind=K).ref)
                other.upsert_records([rec("6", "Renamed", kind=K, amount="6.00")])
            return found

        monkeypatch.setattr(positions, "version", checked)
        during = shown()
        monkeypatch.setattr(positions, "version", real)
        after = shown()
        assert armed and before != after
        assert during in (before, after)
    finally:
        other.close()
        app.close()


def test_a_search_typed_letter_by_letter_shows_each_search_as_paging_does(
    tmp_path: Path,
) -> None:
    app = filled(tmp_path / "c.sqlite3")
    try:
        for typed in ("D", "De", "Dea", "Deal", "Deal ", "Deal 3"):
            app.prepare_list(P, K, search=typed, sort="amount")
        for typed in ("D", "Deal 3", "Deal 4"):
            searched_as_paging(app, typed)
    finally:
        app.close()


def test_a_build_whose_temp_store_fails_keeps_nothing_and_windows_read_as_paging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary table cannot be written (a full disk): no half-built order is kept."""
    app = filled(tmp_path / "c.sqlite3")
    real = positions._unpacked

    def full(conn: sqlite3.Connection, *args: object) -> object:
        raise sqlite3.OperationalError("database or disk is full")

    try:
        monkeypatch.setattr(positions, "_unpacked", full)
        with pytest.raises(sqlite3.OperationalError):
            app.prepare_list(P, K, sort="amount")
        monkeypatch.setattr(positions, "_unpacked", real)
        whole = paged(app, sort="amount")
        assert ids(app.window(P, K, offset=0, limit=10_000, sort="amount")) == whole
        assert app.prepare_list(P, K, sort="amount") == len(whole)  # a later build works
        assert ids(app.window(P, K, offset=3, limit=4, sort="amount")) == whole[3:7]
    finally:
        app.close()


def test_searches_typed_quickly_with_background_builds_and_writes_between_read_as_paging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each letter typed asks for a list (every list built in the background here);
    another Store writes between letters: every search's windows and count, once the
    last build asked for is done, are what paging it shows."""
    path = tmp_path / "c.sqlite3"
    app, other = filled(path), Store(path)
    built: list[tuple[str, ...]] = []
    real = positions.Positions.build

    def recorded(self: positions.Positions, spec: positions.Spec, via: str | None = None) -> int:
        n = real(self, spec, via)
        built.append(spec[3])
        return n

    monkeypatch.setattr(positions, "BUILD_FROM", 1)
    monkeypatch.setattr(positions, "SETTLE_S", 0.0)
    monkeypatch.setattr(positions.Positions, "build", recorded)
    typed = ("D", "De", "Dea", "Deal", "Deal 4")
    try:
        for n, text in enumerate(typed):
            app.window(P, K, offset=0, limit=5, search=text, sort="amount")
            other.upsert_records([rec(f"w{n}", f"Deal {n}", kind=K, amount="3.00")])
        eventually_sync(lambda: built)  # a build ran to its end (others may go on)
        for text in typed:
            searched_as_paging(app, text)
    finally:
        other.close()
        app.close()


def test_a_background_build_that_fails_keeps_nothing_and_the_next_one_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder thread's temporary table cannot be written (a full disk): windows
    read as paging meanwhile, and the list's next build, asked for by a window, is kept."""
    app = filled(tmp_path / "c.sqlite3")
    real = positions._unpacked
    tried: list[int] = []
    kept: list[int] = []
    build = positions.Positions.build

    def full(*args: Any) -> Any:
        tried.append(1)
        if len(tried) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args)

    def recorded(self: positions.Positions, spec: positions.Spec, via: str | None = None) -> int:
        n = build(self, spec, via)
        kept.append(n)
        return n

    monkeypatch.setattr(positions, "BUILD_FROM", 1)
    monkeypatch.setattr(positions, "SETTLE_S", 0.0)
    monkeypatch.setattr(positions, "_unpacked", full)
    monkeypatch.setattr(positions.Positions, "build", recorded)
    try:
        whole = paged(app, sort="amount")
        assert ids(app.window(P, K, offset=0, limit=100, sort="amount")) == whole
        eventually_sync(lambda: tried)  # the first build failed
        eventually_sync(lambda: ids(app.window(P, K, offset=0, limit=100, sort="amount")) and kept)
        assert kept == [60]
        assert ids(app.window(P, K, offset=0, limit=100, sort="amount")) == whole
        assert ids(app.window(P, K, offset=40, limit=7, sort="amount")) == whole[40:47]
    finally:
        app.close()


# -- 2. the held-off collector -------------------------------------------------------------


def test_a_release_from_one_paint_never_leaves_the_collector_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Holds outside a running loop (a test's direct render), repeated: always on after."""
    assert gc.isenabled()
    try:
        for _ in range(3):
            record_table._hold_collection()
            assert gc.isenabled()
        record_table._release_collection()
        assert gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.xfail(
    strict=True,
    reason="left for the lead: a paint in the turn its loop stops in queues its release"
    " for a turn that never comes (no table unmounted to catch it up)",
)
def test_a_paint_in_the_last_turn_of_a_loop_leaves_the_collector_on() -> None:
    """A direct render in a loop of its own (a test, a notebook) that is told to stop in
    the same turn, then closed: the process goes on with the collector on."""
    loop = asyncio.new_event_loop()

    def last_turn() -> None:
        loop.stop()
        record_table._hold_collection()  # the paint

    try:
        loop.call_soon(last_turn)
        loop.run_forever()
        loop.close()
        assert gc.isenabled()
    finally:
        record_table._release_collection()  # (its hold is not left for the next test)
        gc.enable()


def test_a_collector_the_program_turned_off_itself_stays_off_after_a_paint() -> None:
    """A program (a benchmark) that turned the collector off keeps it off: a paint
    neither holds nor releases what it did not turn off."""
    gc.disable()
    try:
        record_table._hold_collection()
        record_table._release_collection()
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- 3. the cache file and its open count --------------------------------------------------


def test_a_new_cache_is_made_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        conn = connect(tmp_path / "new" / "c.sqlite3")
        conn.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new" / "c.sqlite3").stat().st_mode) == 0o600


def test_a_link_to_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo, link = tmp_path / "pipe", tmp_path / "c.sqlite3"
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    with pytest.raises(files.NotAFile):
        connect(link)
    assert not in_use(link)


def test_the_open_count_follows_connections_by_any_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite3"
    link = tmp_path / "link.sqlite3"
    link.symlink_to(path)
    monkeypatch.chdir(tmp_path)
    first = connect(path)
    second = connect(Path("link.sqlite3"))
    assert in_use(path) and in_use(link) and in_use(Path("c.sqlite3"))
    first.close()
    assert in_use(path)
    del second
    gc.collect()
    assert not in_use(path)


def test_a_failed_connect_leaves_no_count_so_probe_still_finds_the_damage(
    tmp_path: Path,
) -> None:
    """A connection whose opening failed (the file is not a database) is closed at once:
    while its error is still held, the file is not taken for one open here, and probe
    still reads its header and reports it damaged."""
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"not a database at all " * 400)
    path.chmod(0o600)
    with pytest.raises(sqlite3.DatabaseError) as failed:
        connect(path)
    assert failed.value is not None  # its traceback (and frames) still held
    assert not in_use(path)
    found = probe(path)
    assert found is not None and "header" in str(found)


def test_a_file_replaced_under_an_open_connection_is_probed_as_itself(tmp_path: Path) -> None:
    """Another program puts a damaged file where the open cache was: not open here,
    so probe looks at it."""
    path = tmp_path / "c.sqlite3"
    app = Store(path)
    try:
        damaged = tmp_path / "damaged"
        damaged.write_bytes(b"garbage " * 1000)
        damaged.chmod(0o600)
        os.replace(damaged, path)
        found = probe(path)
        assert found is not None and "header" in str(found)
    finally:
        app.close()
