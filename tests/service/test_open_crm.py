"""``open_crm``: the service owns its HTTP client and cache and closes both, in order,
whatever happens; ``crmtui sync`` gets its service that way and prints, the service not."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crmtui.cli import main
from crmtui.demo import demo_crm
from crmtui.http import Http
from crmtui.service import open_crm
from tests.helpers.service import make_profile


class Closing(Http):
    """An HTTP client that notes when it is closed (and can fail doing so)."""

    def __init__(self, order: list[str], *, fail: bool = False) -> None:
        super().__init__()
        self.order = order
        self.fail = fail

    async def aclose(self) -> None:
        self.order.append("http")
        await super().aclose()
        if self.fail:
            raise OSError("the socket would not close")


def cache_is_closed(crm: Any) -> bool:
    try:
        crm.store.queued_count()
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database"
        return True
    return False


async def test_the_block_closes_the_client_then_the_cache(tmp_path: Path) -> None:
    order: list[str] = []
    async with open_crm([make_profile()], store=tmp_path / "c.sqlite3", http=Closing(order)) as crm:
        assert crm.queued() == 0
    assert order == ["http"] and cache_is_closed(crm)
    await crm.close()  # again: nothing happens
    assert order == ["http"]


async def test_an_error_in_the_block_still_closes_both(tmp_path: Path) -> None:
    order: list[str] = []
    with pytest.raises(RuntimeError, match="boom"):
        async with open_crm(
            [make_profile()], store=tmp_path / "c.sqlite3", http=Closing(order)
        ) as crm:
            raise RuntimeError("boom")
    assert order == ["http"] and cache_is_closed(crm)


async def test_a_client_that_fails_to_close_still_closes_the_cache(tmp_path: Path) -> None:
    crm = open_crm([make_profile()], store=tmp_path / "c.sqlite3", http=Closing([], fail=True))
    with pytest.raises(OSError, match="would not close"):
        await crm.close()
    assert cache_is_closed(crm)


async def test_a_cancelled_block_still_closes_both(tmp_path: Path) -> None:
    order: list[str] = []
    entered = asyncio.Event()
    crm = open_crm([make_profile()], store=tmp_path / "c.sqlite3", http=Closing(order))

    async def work() -> None:
        async with crm:
            entered.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(work())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert order == ["http"] and cache_is_closed(crm)


async def test_the_demo_service_owns_what_it_opened(tmp_path: Path) -> None:
    crm, demos = demo_crm(vendors=["freshsales"], store_path=tmp_path / "d.sqlite3")
    assert [d.profile.name for d in demos] == crm.profile_names == ["demo-freshsales"]
    await crm.close()
    assert cache_is_closed(crm)


def test_crmtui_sync_prints_the_plan_and_the_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    assert main(["sync", "--demo", "freshsales", "Deals", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Deals: full sync of" in out and "budget" in out
    assert "done" in out.splitlines()[-1]


def test_crmtui_sync_names_what_is_wrong_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "demo.sqlite3")
    assert main(["sync", "--demo", "freshsales", "widgets", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "crmtui sync:" in err and "no kind 'widgets'" in err and "Traceback" not in err
    assert main(["sync", "--demo", "nosuchvendor", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crmtui sync:") and "Traceback" not in err
