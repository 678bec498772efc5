"""The notebook API takes a vendor's name in any case, as the config file and CLI do."""

from __future__ import annotations

from pathlib import Path

from crmtui.api import open_demo


async def test_open_demo_takes_a_vendor_name_in_any_case(tmp_path: Path) -> None:
    client = await open_demo("SalesLoft", store_path=tmp_path / "cache.sqlite3")
    try:
        assert repr(client).startswith("<crmtui.Client demo-salesloft (Salesloft)")
    finally:
        await client.close()
