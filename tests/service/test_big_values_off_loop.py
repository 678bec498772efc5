"""A page, a sync or a timeline holding a multi-megabyte value is stored and read off the
event loop: the screens (a ticker on the loop here) go on while the cache works.

Each store method the service calls is wrapped: it notes the thread it runs on and, for
the big value, waits until the loop has ticked again. On the loop that wait could never
end (the loop is the one waiting), so it gives up and the test fails; in a thread it
returns at once. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from crmtui.model import Query
from crmtui.store import Store
from tests.helpers.service import PROFILE, Rig

BIG = "The quick brown fox jumps over the lazy dog. " * 70_000  # 3 MB
GIVE_UP = 30.0  # seconds a wrapped call waits for the loop before it says it was blocked


class Watch:
    """Where each wrapped store call ran, and whether the loop ticked meanwhile."""

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()
        self.ticks = 0
        self.ticked = threading.Event()
        # (name, off the loop, held the big value, the loop went on meanwhile)
        self.calls: list[tuple[str, bool, bool, bool]] = []

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(0)
            self.ticks += 1
            self.ticked.set()

    @contextmanager
    def around(self, store: Store, *names: str) -> Iterator[None]:
        originals = {name: getattr(store, name) for name in names}
        for name, original in originals.items():
            setattr(store, name, self._wrapped(name, original))
        ticker = asyncio.ensure_future(self.tick())
        try:
            yield
        finally:
            ticker.cancel()
            for name in names:
                delattr(store, name)

    def _wrapped(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            off = threading.get_ident() != self.loop_thread
            held = _holds_big(args)
            went_on = False
            if held:
                self.ticked.clear()
                went_on = self.ticked.wait(GIVE_UP if off else 0)
            self.calls.append((name, off, held, went_on))
            return original(*args, **kwargs)

        return call

    def big(self, name: str) -> list[tuple[bool, bool]]:
        """(off the loop, the loop went on) of each call of ``name`` with the big value."""
        return [(off, on) for n, off, held, on in self.calls if n == name and held]

    def threads(self, name: str) -> list[bool]:
        """Whether each call of ``name`` ran off the loop."""
        return [off for n, off, _, _ in self.calls if n == name]


def _holds_big(value: Any) -> bool:
    """Whether ``value`` (arguments: records, activities, lists of them) holds ``BIG``."""
    if isinstance(value, str):
        return _big(value)
    if isinstance(value, (list, tuple)):
        return any(_holds_big(v) for v in value)
    fields = getattr(value, "fields", None)
    if isinstance(fields, dict):
        return any(_big(v) for v in fields.values())
    return _big(getattr(value, "body", None))


def _big(value: Any) -> bool:
    """``BIG``, as a vendor's reply may give it back (trimmed, say)."""
    return isinstance(value, str) and len(value) > len(BIG) // 2


@pytest.fixture
def watch() -> Watch:
    return Watch()


async def test_a_list_page_with_a_big_field_is_stored_off_the_loop(rig: Rig, watch: Watch) -> None:
    deal = next(iter(rig.db.deals.values()))
    deal["description"] = BIG
    with watch.around(rig.store, "upsert_records"):
        await rig.crm.refresh(PROFILE, "deal", Query(per_page=100))
    assert watch.big("upsert_records") == [(True, True)]
    stored = await rig.crm.cached_async(rig.ref(deal["id"]))
    assert stored is not None and BIG in stored.fields.values()


async def test_a_sync_page_with_a_big_field_is_stored_off_the_loop(rig: Rig, watch: Watch) -> None:
    deal = next(iter(rig.db.deals.values()))
    deal["description"] = BIG
    with watch.around(rig.store, "upsert_records"):
        results = await rig.crm.sync(PROFILE, ["deal"])
    assert not results[0].error
    assert watch.big("upsert_records") == [(True, True)]
    assert all(watch.threads("upsert_records"))
    assert results[0].changed == results[0].records == len(rig.db.deals)


async def test_a_timeline_with_a_big_note_is_read_and_stored_off_the_loop(
    rig: Rig, watch: Watch
) -> None:
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    note = next(n for n in rig.db.notes.values() if n["relid"] == deal.id)
    note["note"] = BIG
    with watch.around(rig.store, "put_timeline", "get_timeline"):
        fetched = await rig.crm.timeline(ref)  # stored
        again = await rig.crm.timeline(ref)  # the big note read back and stored again
        cached = await rig.crm.cached_timeline_async(ref)
    assert any(_big(a.body) for a in fetched)
    assert again == fetched and cached == fetched
    assert watch.big("put_timeline") == [(True, True), (True, True)]
    assert watch.threads("get_timeline") and all(watch.threads("get_timeline"))


async def test_an_offline_open_reads_the_cached_record_off_the_loop(rig: Rig, watch: Watch) -> None:
    deal = await rig.open_deal()
    rig.offline()
    with watch.around(rig.store, "get_record"):
        got = await rig.crm.get(rig.ref(deal.id))
    assert got == deal
    assert watch.threads("get_record") and all(watch.threads("get_record"))
