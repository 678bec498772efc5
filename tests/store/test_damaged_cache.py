"""A damaged or unusable cache never hides queued edits.

Case by case (garbage header, truncated file, schema from a newer crmtui, read-only
folder, a folder or a dangling link in its place): the app, `crmtui sync` and the notebook
API say in one line which file and what to do, and exit non-zero or raise
``CacheUnusable``; `crmtui cache check` reports the queued edits, `crmtui cache salvage`
keeps the damaged file aside (renamed, byte for byte) and recovers them into a fresh cache.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crmtui import api, locations
from crmtui.cli import main
from crmtui.model import Change, ChangeOp, ChangeState, RecordRef
from crmtui.store import CacheUnusable, Store

NAMES = ["Zebulon Quartzfield", "Ottoline Brackenbury", "Perpetua Wolfsbane"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRMTUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACME_KEY", "k3y")
    config = locations.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\napi_key_env = "ACME_KEY"\n',
        encoding="utf-8",
    )
    config.chmod(0o600)
    return tmp_path / "home"


def queue_edits(path: Path, *, filler: int = 300) -> list[str]:
    """A cache holding three queued creates (and enough other pages to be truncated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(path)
    ids = []
    for name in NAMES:
        change = Change(
            ref=RecordRef(profile="acme", kind="contact", id="new"),
            op=ChangeOp.CREATE,
            values={"first_name": name},
        )
        ids.append(store.enqueue(change, vendor="freshsales").id)
    with store._db.transaction() as conn:
        conn.execute("CREATE TABLE filler (x TEXT)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 3000,)] * filler)
    store.close()
    return ids


def cache() -> Path:
    return locations.cache_db()


def garbage_header(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.write(os.urandom(100))


def truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size * 2 // 3 + 100)


def newer_schema(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "garbage header": garbage_header,
    "truncated": truncated,
    "newer schema": newer_schema,
}


def recovered(path: Path) -> list[Change]:
    """The queued edits of the (fresh) cache at ``path``."""
    store = Store(path)
    try:
        assert store.integrity_check() == "ok"
        return store.changes(profile="acme")
    finally:
        store.close()


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def assert_refused_everywhere(path: Path, capsys: pytest.CaptureFixture[str], *words: str) -> None:
    assert main([]) == 1  # the app
    line = one_line(capsys.readouterr().err)
    assert str(path) in line and all(w in line for w in words), line
    assert main(["sync", "acme"]) != 0  # crmtui sync
    line = one_line(capsys.readouterr().err)
    assert str(path) in line and all(w in line for w in words), line
    with pytest.raises(CacheUnusable) as info:  # the notebook API
        api.open_profile("acme")
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert all(w in str(info.value) for w in words)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_cache_is_named_kept_and_its_edits_recovered(
    home: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    path = cache()
    ids = queue_edits(path)
    DAMAGE[damage](path)
    damaged = path.read_bytes()

    assert_refused_everywhere(path, capsys, "crmtui cache salvage")
    assert path.read_bytes() == damaged  # refusing changed nothing

    assert main(["cache", "check"]) == 1
    report = capsys.readouterr()
    assert str(path) in report.err and "3 queued edit(s)" in report.err
    assert path.read_bytes() == damaged

    assert main(["cache", "salvage"]) == 0
    out = capsys.readouterr().out
    assert "recovered 3 queued edit(s)" in out
    aside = [
        p
        for p in path.parent.iterdir()
        if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(aside) == 1 and aside[0].name.startswith("cache.sqlite3.damaged-")
    assert aside[0].read_bytes() == damaged  # kept, byte for byte
    assert str(aside[0]) in out

    changes = recovered(path)  # a fresh, sound cache with the edits
    assert sorted(c.id for c in changes) == sorted(ids)
    assert sorted(str(c.values["first_name"]) for c in changes) == sorted(NAMES)
    assert all(c.state is not ChangeState.DONE for c in changes)
    assert main(["cache", "check"]) == 0
    assert "sound; 3 queued edit(s)" in capsys.readouterr().out


def test_edits_read_from_raw_pages_wait_for_the_user(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    garbage_header(path)  # SQLite cannot read it at all: the pages are read directly
    assert main(["cache", "salvage"]) == 0
    assert "uncertain" in capsys.readouterr().out
    changes = recovered(path)
    assert {c.state for c in changes} == {ChangeState.UNCERTAIN}
    assert all("damaged cache" in (c.last_error or "") for c in changes)


def test_a_newer_schema_keeps_its_edits_pending(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    newer_schema(path)
    assert main([]) == 1
    assert "newer crmtui" in capsys.readouterr().err
    assert main(["cache", "salvage"]) == 0
    assert {c.state for c in recovered(path)} == {ChangeState.PENDING}


def test_a_folder_in_place_of_the_cache(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cache()
    path.mkdir(parents=True)
    assert_refused_everywhere(path, capsys, "is a folder")
    assert main(["cache", "salvage"]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert path.is_dir()


def test_a_dangling_link_in_place_of_the_cache(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = cache()
    path.parent.mkdir(parents=True)
    target = tmp_path / "unmounted" / "cache.sqlite3"
    path.symlink_to(target)
    assert_refused_everywhere(path, capsys, "is a link to", str(target))
    assert not target.exists()  # nothing was created behind the link
    assert main(["cache", "check"]) == 1
    assert "is a link to" in capsys.readouterr().err


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only, also for root (the immutable flag), or the test skips."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root ignores folder modes and chattr is not installed")
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("root ignores folder modes and this filesystem has no immutable flag")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_folder(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cache()
    queue_edits(path, filler=0)
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    before = path.read_bytes()
    with read_only(path.parent):
        assert_refused_everywhere(path, capsys, "read-only", str(path.parent))
        assert main(["cache", "salvage"]) == 1
        assert "read-only" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_a_read_only_folder_for_a_new_cache(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = cache().parent
    folder.mkdir(parents=True)
    with read_only(folder):
        assert main([]) == 1
        line = one_line(capsys.readouterr().err)
        assert "read-only" in line and str(folder) in line


def test_a_sound_cache_is_left_alone(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cache()
    queue_edits(path, filler=0)
    assert main(["cache", "salvage"]) == 0
    assert "nothing to salvage" in capsys.readouterr().out
    assert [p.name for p in path.parent.iterdir() if "damaged" in p.name] == []


def copy_cache(source: Path, target: Path) -> None:
    """The cache files as a crash would leave them (main file and write-ahead log)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


async def test_a_salvaged_edit_is_sent_afterwards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live, copy = tmp_path / "live" / "cache.sqlite3", tmp_path / "copy" / "cache.sqlite3"
    client = await api.open_demo("freshsales", store_path=live)
    deal = (await client.records("deal", limit=1))[0]
    change = await client.edit(deal, amount="4242")
    assert change is not None
    copy_cache(live, copy)  # before the event loop could send it
    await client.close()
    newer_schema(copy)

    assert main(["cache", "salvage", "--db", str(copy)]) == 0
    assert "recovered 1 queued edit(s)" in capsys.readouterr().out
    again = await api.open_demo("freshsales", store_path=copy)
    try:
        assert again.queued == 1
        left = await again.sync_outbox()
        assert left.sent == 1 and again.queued == 0
        assert float((await again.get(deal)).fields["amount"]) == 4242
    finally:
        await again.close()


def test_edits_only_in_the_write_ahead_log_are_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live, copy = tmp_path / "live" / "cache.sqlite3", tmp_path / "copy" / "cache.sqlite3"
    live.parent.mkdir(parents=True)
    store = Store(live)  # left open: its edits are in the -wal file only
    try:
        for name in NAMES:
            store.enqueue(
                Change(
                    ref=RecordRef(profile="acme", kind="contact", id="new"),
                    op=ChangeOp.CREATE,
                    values={"first_name": name},
                ),
                vendor="freshsales",
            )
        copy_cache(live, copy)
    finally:
        store.close()
    assert Path(f"{copy}-wal").stat().st_size > 0
    garbage_header(copy)
    assert main(["cache", "salvage", "--db", str(copy)]) == 0
    assert "recovered 3 queued edit(s)" in capsys.readouterr().out
    assert sorted(str(c.values["first_name"]) for c in recovered(copy)) == sorted(NAMES)


# -- what an attacker (or an accident) puts in place of the cache --------------------------


def finishes(step: Callable[[], None]) -> None:
    """Run ``step`` in a thread, so that a wait on a FIFO fails the test instead of hanging."""
    import threading

    errors: list[BaseException] = []
    done: list[bool] = []

    def run() -> None:
        try:
            step()
            done.append(True)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    assert done, "it waited on the file (a FIFO) instead of refusing it"


def test_a_fifo_in_place_of_the_cache_is_refused_not_waited_on(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    path.parent.mkdir(parents=True)
    os.mkfifo(path)

    def everywhere() -> None:
        assert_refused_everywhere(path, capsys, "a FIFO (named pipe), not a file")
        for action in ("check", "salvage"):
            assert main(["cache", action]) == 1
            assert "a FIFO (named pipe)" in one_line(capsys.readouterr().err)

    finishes(everywhere)


def test_a_fifo_in_place_of_the_write_ahead_log_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    os.mkfifo(f"{path}-wal")
    finishes(lambda: assert_refused_everywhere(path, capsys, "-wal is a FIFO (named pipe)"))


@pytest.mark.parametrize("what", ["link", "folder"])
def test_a_linked_or_folder_write_ahead_log_is_named(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, what: str
) -> None:
    path = cache()
    queue_edits(path)
    wal = Path(f"{path}-wal")
    victim = tmp_path / "victim"
    victim.write_text("IMPORTANT\n")
    if what == "link":
        wal.symlink_to(victim)
    else:
        wal.mkdir()
    words = "-wal is a symbolic link" if what == "link" else "-wal is a folder"
    assert_refused_everywhere(path, capsys, words)
    assert main(["cache", "salvage"]) == 1
    assert words in one_line(capsys.readouterr().err)
    assert victim.read_text() == "IMPORTANT\n"


def drop_outbox(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE outbox")
    conn.commit()
    conn.close()


def test_a_cache_that_lost_a_table_is_damaged_for_open_check_and_salvage_alike(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    drop_outbox(path)
    assert_refused_everywhere(path, capsys, "tables of its schema are missing: outbox")
    assert main(["cache", "check"]) == 1
    assert "tables of its schema are missing: outbox" in capsys.readouterr().err
    assert main(["cache", "salvage"]) == 0
    assert "kept the damaged cache as" in capsys.readouterr().out
    recovered(path)  # a sound fresh cache
    assert main(["cache", "check"]) == 0
    assert "sound" in capsys.readouterr().out


@pytest.mark.parametrize("table", ["records", "bookmarks"])
def test_another_programs_database_is_never_migrated_or_salvaged(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, table: str
) -> None:
    theirs = tmp_path / "places.sqlite"
    conn = sqlite3.connect(theirs)
    conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute(f"INSERT INTO {table} (url) VALUES ('https://example.com')")
    conn.commit()
    conn.close()
    theirs.chmod(0o644)
    before = theirs.read_bytes()
    assert main(["sync", "--demo", "freshsales", "contact", "--db", str(theirs)]) != 0
    line = one_line(capsys.readouterr().err)
    assert f"not a crmtui cache: it holds another program's tables ({table})" in line
    with pytest.raises(CacheUnusable, match="not a crmtui cache"):
        Store(theirs)
    for action, code in (("check", 1), ("salvage", 1)):
        assert main(["cache", action, "--db", str(theirs)]) == code
        assert "not a crmtui cache" in one_line(capsys.readouterr().err)
    assert theirs.read_bytes() == before and oct(theirs.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("places")) == [
        "places.sqlite"
    ]


def corrupt_records(path: Path) -> None:
    """Garbage over the pages of the records table and its indexes; the header stays good."""
    conn = sqlite3.connect(path)
    pages = [
        r[0]
        for r in conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'records' AND rootpage > 0"
        )
    ]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with path.open("r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * size)
            handle.write(b"\xa5" * size)


def test_corruption_found_while_syncing_is_one_line_naming_the_queued_edits(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    corrupt_records(path)
    code = main(["sync", "--demo", "freshsales", "contact", "--db", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err
    line = one_line(err)
    assert str(path) in line and "is damaged" in line and "crmtui cache salvage" in line
    assert "3 queued edit(s)" in line
    assert main(["cache", "check"]) == 1
    report = capsys.readouterr().err.splitlines()
    assert len(report) == 2 and "is damaged" in report[0], report  # and the edits readable


def test_a_multi_line_integrity_report_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    with path.open("r+b") as handle:  # pages of the filler table: SQLite reports each
        for page in (4, 11, 18, 25, 32):
            handle.seek((page - 1) * 4096)
            handle.write(b"\xa5" * 4096)
    assert main(["cache", "check"]) == 1
    report = capsys.readouterr().err.splitlines()
    assert len(report) == 2, report
    assert "is damaged (SQLite's integrity check: " in report[0], report
    assert "***" not in report[0]


async def test_corruption_found_while_the_app_runs_is_one_line_and_exit_1(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual.worker import WorkerFailed

    from crmtui.ui.app import CrmApp
    from crmtui.ui.launch import demo_crm

    path = cache()
    queue_edits(path)
    crm, _ = demo_crm(vendors=["freshsales"], store_path=str(path))
    app = CrmApp(crm)
    corrupt_records(path)
    error = sqlite3.DatabaseError("database disk image is malformed")
    with contextlib.suppress(WorkerFailed):
        async with app.run_test() as pilot:
            app._handle_exception(WorkerFailed(error))  # as a worker's failure reaches it
            await pilot.pause()
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    line = one_line(err)
    assert str(path) in line and "is damaged" in line and "crmtui cache salvage" in line
    assert "3 queued edit(s)" in line


async def test_corruption_found_by_the_notebook_api_is_cache_unusable(home: Path) -> None:
    from crmtui.ui.launch import demo_crm

    path = cache()
    queue_edits(path)
    crm, demos = demo_crm(vendors=["freshsales"], store_path=str(path))
    client = api.Client(crm, demos[0].profile.name)
    corrupt_records(path)
    try:
        with pytest.raises(CacheUnusable) as info:
            await client.sync("contact")
    finally:
        with contextlib.suppress(Exception):
            await client.close()
    text = str(info.value)
    assert "\n" not in text and str(path) in text and "is damaged" in text
    assert "3 queued edit(s)" in text and "crmtui cache salvage" in text


@pytest.mark.parametrize("target", ["another user's file", "a device"])
def test_a_link_to_something_not_the_users_own_is_refused_untouched(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str
) -> None:
    path = cache()
    path.parent.mkdir(parents=True)
    if target == "a device":
        victim = Path("/dev/null")
        words = "a device, not a file"
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to give a file to another user")
        victim = tmp_path / "theirs"
        victim.write_text("THEIRS\n")
        os.chown(victim, 65534, -1)
        words = "owned by another user"
    victim.chmod(0o666) if target == "a device" else victim.chmod(0o644)
    mode = victim.stat().st_mode
    path.symlink_to(victim)
    assert_refused_everywhere(path, capsys, "is a link to", words)
    for action in ("check", "salvage"):
        assert main(["cache", action]) == 1
        assert words in one_line(capsys.readouterr().err)
    assert victim.stat().st_mode == mode
    assert target == "a device" or victim.read_text() == "THEIRS\n"
    assert path.is_symlink()


def test_corruption_found_by_forget_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cache()
    queue_edits(path)
    corrupt_records(path)  # forget deletes the profile's records
    assert main(["forget", "acme"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = one_line(err)
    assert str(path) in line and "is damaged" in line and "3 queued edit(s)" in line
