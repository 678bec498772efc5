"""Claims are never stolen from a live sender, and a sender that lost its claim writes
nothing over what the change became; changes naming an unfinished create wait for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crmtui.model import Change, ChangeOp, ChangeState, RecordRef, utcnow
from crmtui.store import ChangeBusy, ClaimLost, Store
from tests.store.factory import ACME, MINUTE, edit, on_disk, rec

GONE = -MINUTE  # a lease that has already run out


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Path, Store, Store]]:
    """One cache file opened twice, as two processes would."""
    path = tmp_path / "cache.sqlite3"
    first = Store(path)
    first.upsert_records([rec("1", "Acme renewal", kind="deal", amount="1250.00")])
    second = Store(path)
    yield path, first, second
    first.close()
    second.close()


CHILD = """
import sys
from datetime import timedelta
from crmtui.store import Store
from crmtui.store.outbox import owner_id
store = Store(sys.argv[1])
owner = owner_id()
claimed = store.claim(sys.argv[2], owner, timedelta(seconds=float(sys.argv[3])))
print(owner if claimed else "", flush=True)
sys.stdin.read()  # holds its claim until told to end
"""


def test_a_paused_senders_claim_is_not_taken_over_when_its_lease_runs_out(
    two: tuple[Path, Store, Store],
) -> None:
    """A real process claims a change with a lease that is already over, then is
    stopped (as Ctrl-Z or a very slow request would leave it): it is alive, so its claim
    holds; once it is gone, the claim comes back as maybe sent."""
    path, first, second = two
    change = edit(first, ACME, amount="9000.00")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), change.id, "-60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert child.stdout is not None
        owner = child.stdout.readline().strip()
        assert owner.startswith(f"{socket.gethostname()}:{child.pid}:")
        os.kill(child.pid, signal.SIGSTOP)
        assert second.recover_stale() == 0  # lease over, owner alive: its claim stands
        assert second.claim(change.id, "notebook", MINUTE) is None
        assert second.sendable("acme-fs", utcnow()) == []
        with pytest.raises(ChangeBusy, match="being sent"):
            second.discard(change.id)
        assert on_disk(path)[change.id] == ("sending", owner, 0)
    finally:
        os.kill(child.pid, signal.SIGCONT)
        child.kill()
        child.wait()
    assert second.recover_stale() == 1  # now its owner is gone: maybe sent, checked first
    assert on_disk(path)[change.id] == ("pending", None, 1)


@pytest.mark.parametrize("taken_over_as", ["done", "failed", "pending"])
def test_a_sender_whose_claim_was_taken_over_records_nothing(
    two: tuple[Path, Store, Store], taken_over_as: str
) -> None:
    path, first, second = two
    change = edit(first, ACME, amount="9000.00")
    late = "other-host:1:late"  # another host: only the lease tells, and it ran out
    assert first.claim(change.id, late, GONE) is not None
    assert second.recover_stale() == 1
    assert second.claim(change.id, "new-owner", MINUTE) is not None
    newer = rec("1", "Acme renewal", kind="deal", minutes=9, amount="9000.00")
    if taken_over_as == "done":
        second.complete(change.id, newer, owner="new-owner")
    elif taken_over_as == "failed":
        second.set_state(change.id, ChangeState.FAILED, owner="new-owner", last_error="503")
    before = on_disk(path)[change.id]

    # the late sender carries on: it may not renew, fail, settle or complete the change
    assert not first.renew(change.id, late, MINUTE)
    with pytest.raises(ClaimLost):
        first.set_state(change.id, ChangeState.CONFLICT, owner=late, last_error="clash")
    older = rec("1", "Acme renewal", kind="deal", minutes=1, amount="1.00")
    with pytest.raises(ClaimLost):
        first.complete(change.id, older, owner=late)
    assert on_disk(path)[change.id] == before
    kept = second.get_change(change.id)
    assert kept is not None and kept.state.value == (
        "sending" if taken_over_as == "pending" else taken_over_as
    )
    record = second.get_record(ACME)
    assert record is not None and record.fields["amount"] == "9000.00"  # not the late one


@pytest.mark.parametrize("how", ["note on it", "value naming it"])
def test_a_change_naming_an_unfinished_create_waits_for_it(
    two: tuple[Path, Store, Store], how: str
) -> None:
    _, first, second = two
    new = RecordRef(profile="acme-fs", kind="company", id="new")
    create = first.enqueue(Change(ref=new, op=ChangeOp.CREATE, values={"name": "Gamma"}))
    placeholder = create.ref.id
    if how == "note on it":
        note = RecordRef(profile="acme-fs", kind="note", id="new")
        values = {"target_kind": "company", "target_id": placeholder, "text": "Met Gamma"}
        follower = first.enqueue(Change(ref=note, op=ChangeOp.CREATE, values=values))
    else:
        follower = edit(first, ACME, company=placeholder)
    # across processes: neither lists it nor may claim it before the create is done
    for store in (first, second):
        assert [c.id for c in store.sendable("acme-fs", utcnow())] == [create.id]
        assert store.claim(follower.id, "notebook", MINUTE) is None
    assert second.claim(create.id, "app", MINUTE) is not None
    second.set_state(create.id, ChangeState.FAILED, owner="app", last_error="500")
    assert [c.id for c in first.sendable("acme-fs", utcnow() + timedelta(hours=1))] == [create.id]
    assert first.claim(create.id, "app", MINUTE, utcnow() + timedelta(hours=1)) is not None
    first.complete(create.id, rec("77", "Gamma", kind="company"), owner="app")

    moved = second.get_change(follower.id)
    assert moved is not None and placeholder not in moved.model_dump_json()
    assert [c.id for c in second.sendable("acme-fs", utcnow())] == [follower.id]
    assert second.claim(follower.id, "notebook", MINUTE) is not None
