"""The outbox as a user notices it: edits show at once, survive restarts, go in order."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crmtui.model import Change, ChangeOp, ChangeState, RecordRef, utcnow
from crmtui.store import ChangeBusy, Store
from tests.store.factory import ACME, MINUTE, T0, edit, on_disk, rec

BETA = RecordRef(profile="acme-fs", kind="deal", id="2")


@pytest.fixture
def deals(store: Store) -> Store:
    store.upsert_records(
        [
            rec(
                "1",
                "Acme renewal",
                kind="deal",
                amount="1250.00",
                stage="open",
                name="Acme renewal",
            ),
            rec("2", "Beta pilot", kind="deal", amount="99.00", stage="open", name="Beta pilot"),
        ]
    )
    return store


def test_edit_shows_at_once_in_get_window_and_search(deals: Store) -> None:
    edit(deals, ACME, name="Acme mega renewal", amount="9000.00")
    record = deals.get_record(ACME)
    assert record is not None
    assert record.fields["amount"] == "9000.00"
    assert record.title == "Acme mega renewal"  # the title followed the edited name
    top = deals.window("acme-fs", "deal", offset=0, limit=1, sort="amount", descending=True)
    assert top[0].id == "1"
    assert [r.id for r in deals.search("mega")] == ["1"]
    assert deals.queued_count() == 1
    assert deals.queued_count("other") == 0


def test_refresh_keeps_the_pending_edit_and_records_the_server_version(deals: Store) -> None:
    edit(deals, ACME, amount="9000.00")
    server = rec("1", "Acme renewal", kind="deal", minutes=30, amount="1300.00", stage="won")
    deals.upsert_records([server])
    record = deals.get_record(ACME)
    assert record is not None
    assert record.fields["amount"] == "9000.00"  # mine still shows
    assert record.fields["stage"] == "won"  # other fields follow the server
    theirs = deals.server_version(ACME)
    assert theirs is not None
    assert theirs.fields["amount"] == "1300.00"
    assert theirs.updated_at == T0 + timedelta(minutes=30)


def test_refresh_without_queued_changes_overwrites(deals: Store) -> None:
    deals.upsert_records([rec("1", "Acme renewal", kind="deal", amount="1300.00")])
    record = deals.get_record(ACME)
    assert record is not None and record.fields == {"amount": "1300.00"}
    assert deals.server_version(ACME) is None


def test_discard_restores_the_base_values(deals: Store) -> None:
    first = edit(deals, ACME, amount="9000.00")
    second = edit(deals, ACME, stage="won")
    deals.discard(first.id)
    record = deals.get_record(ACME)
    assert record is not None
    assert record.fields["amount"] == "1250.00"
    assert record.fields["stage"] == "won"
    deals.discard(second.id)
    record = deals.get_record(ACME)
    assert record is not None and record.fields["stage"] == "open"
    assert deals.server_version(ACME) is None
    assert deals.queued_count() == 0


def test_only_the_oldest_unfinished_change_of_a_record_is_sendable(deals: Store) -> None:
    now = utcnow()
    a1 = edit(deals, ACME, amount="1.00")
    a2 = edit(deals, ACME, amount="2.00")
    b1 = edit(deals, BETA, stage="won")
    assert [c.id for c in deals.sendable("acme-fs", now)] == [a1.id, b1.id]

    deals.set_state(a1.id, ChangeState.SENDING)
    assert [c.id for c in deals.sendable("acme-fs", now)] == [b1.id]
    deals.set_state(
        a1.id, ChangeState.FAILED, last_error="503", next_retry_at=now + timedelta(minutes=1)
    )
    assert [c.id for c in deals.sendable("acme-fs", now)] == [b1.id]  # a2 still waits for a1
    later = now + timedelta(minutes=2)
    assert [c.id for c in deals.sendable("acme-fs", later)] == [a1.id, b1.id]

    deals.complete(a1.id, None)
    assert [c.id for c in deals.sendable("acme-fs", now)] == [a2.id, b1.id]
    failed = deals.get_change(a1.id)
    assert failed is not None and failed.state is ChangeState.DONE and failed.attempts == 1


def test_rejected_and_conflicting_changes_block_later_ones_until_edited(deals: Store) -> None:
    a1 = edit(deals, ACME, amount="1.00")
    a2 = edit(deals, ACME, stage="won")
    deals.set_state(a1.id, ChangeState.CONFLICT, theirs={"amount": "1300.00"}, theirs_updated_at=T0)
    assert deals.sendable("acme-fs", utcnow()) == []
    conflict = deals.get_change(a1.id)
    assert conflict is not None and conflict.theirs == {"amount": "1300.00"}

    deals.edit_change(a1.id, {"amount": "1400.00"})
    edited = deals.get_change(a1.id)
    assert edited is not None
    assert edited.state is ChangeState.PENDING
    assert edited.base == {"amount": "1300.00"}  # rebased on what the user saw
    assert edited.base_updated_at == T0
    record = deals.get_record(ACME)
    assert record is not None and record.fields["amount"] == "1400.00"
    assert [c.id for c in deals.sendable("acme-fs", utcnow())] == [a1.id]
    assert deals.queued_count() == 2
    assert a2.id in {c.id for c in deals.changes(states=[ChangeState.PENDING])}


def test_complete_writes_the_server_record(deals: Store) -> None:
    change = edit(deals, ACME, amount="9000.00")
    server = rec("1", "Acme renewal", kind="deal", minutes=5, amount="9000.00", stage="open")
    deals.complete(change.id, server)
    record = deals.get_record(ACME)
    assert record is not None
    assert record.updated_at == T0 + timedelta(minutes=5)
    assert deals.server_version(ACME) is None
    assert deals.queued_count() == 0
    assert deals.changes(states=[ChangeState.DONE])[0].id == change.id


def test_create_placeholder_is_replaced_and_later_changes_repointed(deals: Store) -> None:
    ref = RecordRef(profile="acme-fs", kind="deal", id="new")
    create = deals.enqueue(
        Change(ref=ref, op=ChangeOp.CREATE, values={"name": "Gamma", "amount": "5.00"})
    )
    placeholder = create.ref
    assert placeholder.id == f"local:{create.id}"
    shown = deals.get_record(placeholder)
    assert shown is not None and shown.title == "Gamma"
    assert deals.count("acme-fs", "deal") == 3
    follow = edit(deals, placeholder, amount="6.00")
    assert [c.id for c in deals.sendable("acme-fs", utcnow())] == [create.id]

    server = rec("77", "Gamma", kind="deal", amount="5.00", name="Gamma")
    deals.set_state(create.id, ChangeState.SENDING)
    deals.complete(create.id, server)

    assert deals.get_record(placeholder) is None
    real = RecordRef(profile="acme-fs", kind="deal", id="77")
    moved = deals.get_change(follow.id)
    assert moved is not None and moved.ref == real
    record = deals.get_record(real)
    assert record is not None and record.fields["amount"] == "6.00"  # the follow-up shows
    assert [c.id for c in deals.sendable("acme-fs", utcnow())] == [follow.id]
    assert deals.count("acme-fs", "deal") == 3
    assert deals.integrity_check() == "ok"


def test_a_create_done_without_a_record_drops_its_placeholder(deals: Store) -> None:
    ref = RecordRef(profile="acme-fs", kind="note", id="new")
    create = deals.enqueue(Change(ref=ref, op=ChangeOp.CREATE, values={"text": "Called Ann"}))
    deals.complete(create.id, None)
    assert deals.get_record(create.ref) is None
    assert deals.queued_count() == 0


def test_discarding_a_create_removes_the_placeholder_and_its_followers(deals: Store) -> None:
    ref = RecordRef(profile="acme-fs", kind="deal", id="new")
    create = deals.enqueue(Change(ref=ref, op=ChangeOp.CREATE, values={"name": "Gamma"}))
    edit(deals, create.ref, amount="6.00")
    deals.discard(create.id)
    assert deals.get_record(create.ref) is None
    assert deals.queued_count() == 0
    assert deals.count("acme-fs", "deal") == 2


def test_queued_delete_hides_the_record_until_discarded(deals: Store) -> None:
    change = deals.enqueue(Change(ref=ACME, op=ChangeOp.DELETE))
    assert deals.get_record(ACME) is None
    assert deals.count("acme-fs", "deal") == 1
    deals.upsert_records([rec("1", "Acme renewal", kind="deal", minutes=9)])
    assert deals.count("acme-fs", "deal") == 1  # a refresh does not bring it back
    deals.discard(change.id)
    assert deals.get_record(ACME) is not None
    assert deals.count("acme-fs", "deal") == 2


def test_a_change_being_sent_cannot_be_edited_or_discarded(deals: Store) -> None:
    change = edit(deals, ACME, amount="1.00")
    deals.set_state(change.id, ChangeState.SENDING)
    with pytest.raises(ChangeBusy):
        deals.discard(change.id)
    with pytest.raises(ChangeBusy):
        deals.edit_change(change.id, {"amount": "2.00"})


def test_queued_changes_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "cache.sqlite3"
    store = Store(path)
    store.upsert_records([rec("1", "Acme renewal", kind="deal", amount="1250.00")])
    sent = edit(store, ACME, amount="9000.00")
    store.set_state(sent.id, ChangeState.SENDING)  # the app dies mid-request
    store.close()

    reopened = Store(path)
    again = reopened.get_change(sent.id)
    assert again is not None
    assert again.state is ChangeState.PENDING
    assert again.attempts == 1
    assert reopened.maybe_sent(sent.id)
    assert [c.id for c in reopened.sendable("acme-fs", utcnow())] == [sent.id]
    record = reopened.get_record(ACME)
    assert record is not None and record.fields["amount"] == "9000.00"
    assert reopened.integrity_check() == "ok"
    reopened.close()


def test_changes_survive_a_killed_process(tmp_path: Path) -> None:
    """kill -9 right after enqueue: the committed change is in the file."""
    import subprocess
    import sys

    path = tmp_path / "cache.sqlite3"
    script = (
        "import os, signal\n"
        "from crmtui.model import Change, RecordRef\n"
        "from crmtui.store import Store\n"
        f"s = Store({str(path)!r})\n"
        "ref = RecordRef(profile='p', kind='deal', id='1')\n"
        "s.enqueue(Change(id='c1', ref=ref, values={'amount': '5.00'}))\n"
        "s.set_state('c1', 'sending')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert done.returncode != 0
    store = Store(path)
    change = store.get_change("c1")
    assert change is not None and change.state is ChangeState.PENDING
    assert store.maybe_sent("c1")
    store.close()


def test_file_is_private_and_sound(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    store = Store(path)
    store.upsert_records([rec("1", "Acme")])
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            assert stat.S_IMODE(os.stat(name).st_mode) & 0o077 == 0, name
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    mode = store._db.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert store._db.conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    assert store.integrity_check() == "ok"
    store.close()


def test_delete_profile_forgets_everything_of_it(deals: Store) -> None:
    deals.upsert_records([rec("9", "Other", kind="deal", profile="beta-sl")])
    edit(deals, ACME, amount="1.00")
    deals.put_sync_state("acme-fs", "deal", {"cursor": "x"})
    deals.put_timeline(ACME, [])
    deals.delete_profile("acme-fs")
    assert deals.count("acme-fs", "deal") == 0
    assert deals.search("acme") == []
    assert deals.queued_count("acme-fs") == 0
    assert deals.get_sync_state("acme-fs", "deal") is None
    assert deals.get_timeline(ACME) is None
    assert deals.last_synced("acme-fs") is None
    assert deals.count("beta-sl", "deal") == 1
    assert deals.integrity_check() == "ok"


# -- claims across processes ---------------------------------------------------------------


def dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[Path, Store, Store]]:
    """One cache file opened twice, as two processes would."""
    path = tmp_path / "cache.sqlite3"
    first = Store(path)
    first.upsert_records([rec("1", "Acme renewal", kind="deal", amount="1250.00")])
    second = Store(path)
    yield path, first, second
    first.close()
    second.close()


def test_a_change_is_claimed_by_one_sender_only(shared: tuple[Path, Store, Store]) -> None:
    path, first, second = shared
    change = edit(first, ACME, amount="9000.00")
    assert [c.id for c in second.sendable("acme-fs", utcnow())] == [change.id]
    claimed = first.claim(change.id, "app", MINUTE)
    assert claimed is not None and claimed.state is ChangeState.SENDING and claimed.attempts == 1
    assert second.claim(change.id, "notebook", MINUTE) is None  # the same UPDATE, lost
    assert first.claim(change.id, "app", MINUTE) is None  # not twice by the same one either
    assert second.sendable("acme-fs", utcnow()) == []
    assert on_disk(path)[change.id][:2] == ("sending", "app")
    with pytest.raises(ChangeBusy, match="it is being sent; wait or retry later"):
        second.discard(change.id)
    with pytest.raises(ChangeBusy, match="being sent"):
        second.requeue(change.id)
    with pytest.raises(ChangeBusy, match="being sent"):
        second.set_state(change.id, ChangeState.FAILED, owner="notebook")
    second.make_due("acme-fs")
    assert on_disk(path)[change.id][:2] == ("sending", "app")
    first.set_state(change.id, ChangeState.FAILED, owner="app", last_error="503")
    assert on_disk(path)[change.id][:2] == ("failed", None)  # the claim ended with it


def test_opening_the_cache_leaves_a_live_claim_alone(shared: tuple[Path, Store, Store]) -> None:
    path, first, _ = shared
    change = edit(first, ACME, amount="9000.00")
    me = f"{socket.gethostname()}:{os.getpid()}:token"
    assert first.claim(change.id, me, MINUTE) is not None
    third = Store(path)  # e.g. a notebook opening the app's cache
    try:
        assert third.recover_stale() == 0
        again = third.get_change(change.id)
        assert again is not None and again.state is ChangeState.SENDING
        assert on_disk(path)[change.id] == ("sending", me, 0)
    finally:
        third.close()


@pytest.mark.parametrize("how", ["dead process", "lease run out"])
def test_a_dead_senders_claim_comes_back_as_maybe_sent(
    shared: tuple[Path, Store, Store], how: str
) -> None:
    path, first, second = shared
    change = edit(first, ACME, amount="9000.00")
    if how == "dead process":  # on this host: known at once, whatever the lease
        owner, lease = f"{socket.gethostname()}:{dead_pid()}:token", MINUTE
    else:  # elsewhere: only the lease tells
        owner, lease = "another-host:1:token", -MINUTE
    assert first.claim(change.id, owner, lease) is not None
    assert second.recover_stale() == 1
    again = second.get_change(change.id)
    assert again is not None and again.state is ChangeState.PENDING
    assert second.maybe_sent(change.id)  # checked with the vendor before it is sent again
    assert on_disk(path)[change.id] == ("pending", None, 1)
    assert second.claim(change.id, "notebook", MINUTE) is not None


def test_maybe_sent_stays_until_done_or_the_user_says_send_again(deals: Store) -> None:
    change = edit(deals, ACME, amount="9000.00")
    assert deals.claim(change.id, "app", MINUTE) is not None
    deals.set_state(change.id, ChangeState.FAILED, owner="app", maybe_sent=True)
    assert deals.claim(change.id, "app", MINUTE) is not None
    deals.set_state(change.id, ChangeState.FAILED, owner="app", last_error="429")
    assert deals.maybe_sent(change.id)  # a later failure that surely did not land
    deals.set_state(change.id, ChangeState.UNCERTAIN, last_error="cannot tell")
    assert deals.sendable("acme-fs", utcnow()) == []  # waits for the user
    deals.requeue(change.id, checked=True)  # "send again"
    assert not deals.maybe_sent(change.id)
    assert [c.id for c in deals.sendable("acme-fs", utcnow())] == [change.id]


def test_retry_of_a_done_change_is_refused(deals: Store) -> None:
    change = edit(deals, ACME, amount="9000.00")
    deals.complete(change.id, None)
    with pytest.raises(ChangeBusy, match="done: the vendor confirmed it"):
        deals.requeue(change.id)
    done = deals.get_change(change.id)
    assert done is not None and done.state is ChangeState.DONE


def test_a_completed_update_rebases_the_next_one_before_anyone_can_send_it(
    deals: Store,
) -> None:
    first = edit(deals, ACME, amount="2000.00")
    second = edit(deals, ACME, amount="3000.00")
    assert deals.claim(second.id, "app", MINUTE) is None  # not before the first is done
    server = rec("1", "Acme renewal", kind="deal", amount="2000.00", minutes=5)
    deals.complete(first.id, server)
    rebased = deals.get_change(second.id)
    assert rebased is not None and rebased.base == {"amount": "2000.00"}
    assert rebased.base_updated_at == server.updated_at
