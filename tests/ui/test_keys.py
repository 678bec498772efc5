"""Keys: vim movement beside the arrows, [keys] overrides, and the help screen."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from crmtui.config import Config
from crmtui.ui.app import binding_ids
from crmtui.ui.screens.help import HelpScreen
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen
from crmtui.ui.screens.outbox import OutboxScreen
from tests.helpers.ui import Demo, wait_for


def help_rows(screen: HelpScreen) -> dict[str, str]:
    table = screen.query_one(DataTable)
    return {
        str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)
    }


async def test_vim_keys_move_on_home(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        demo.crm.states["demo-second"] = demo.crm.states["demo-freshsales"]  # two rows
        pilot.app.screen.fill()
        table = pilot.app.screen.query_one(DataTable)
        assert table.cursor_row == 0
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("k")
        assert table.cursor_row == 0
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0


async def test_vim_keys_move_in_the_outbox(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
        table = pilot.app.screen.query_one(DataTable)
        for i in range(3):
            table.add_row("p", f"record {i}", "", "", "", "", key=f"row{i}")
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        rows = help_rows(pilot.app.screen)
        assert rows["Down"] == "↓ j" and rows["Discard"] == "d"


async def test_a_keys_override_moves_a_binding(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\nmy_day = "t"\ncursor_down = ["down", "n"]\n')
    demo.app.config = Config.load(path)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await pilot.press("d")  # no longer My day
        await pilot.pause()
        assert isinstance(pilot.app.screen, HomeScreen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        rows = help_rows(pilot.app.screen)
        assert rows["My day"] == "t" and rows["Down"] == "↓ n"
        await pilot.press("escape")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))


def test_the_main_bindings_have_ids() -> None:
    assert {"help", "search", "outbox", "quit", "my_day", "open", "back"} <= binding_ids()
    assert {"cursor_down", "cursor_up", "first", "last"} <= binding_ids()
