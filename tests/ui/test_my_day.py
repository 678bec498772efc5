"""My day: overdue and today's tasks of every profile, grouped, enter opens one."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import DataTable

from crmtui.model import KindInfo, Record, Role
from crmtui.sandbox.fake import Fake
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen, classify
from crmtui.ui.screens.record import RecordScreen
from tests.helpers.ui import Demo, run_command, wait_for

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


# A task kind as Salesloft declares it: a due time, else a due date; done a bool.
TASKS = KindInfo(
    kind="task",
    label="Tasks",
    singular="Task",
    roles={Role.DUE: "due_at", Role.DUE_DATE: "due_date", Role.DONE: "done"},
)
# The same meaning under other names: done is a status choice.
TODOS = KindInfo(
    kind="todo",
    label="To-dos",
    singular="To-do",
    roles={Role.DUE: "deadline", Role.DONE: "state"},
    done_values=["completed", "cancelled"],
)


def task(**fields: object) -> Record:
    return Record(vendor="x", profile="p", kind="task", id="1", title="T", fields=fields)


def test_overdue_today_and_later() -> None:
    assert classify(task(due_at="2026-11-19T16:00:00Z"), TASKS, NOW).overdue is True
    assert classify(task(due_at="2026-11-20T08:00:00Z"), TASKS, NOW).overdue is True  # passed
    assert classify(task(due_at="2026-11-20T23:00:00Z", done=False), TASKS, NOW).overdue is False
    assert classify(task(due_at="2026-11-25T10:00:00Z"), TASKS, NOW) is None
    assert classify(task(due_at="2026-11-19T16:00:00Z", done=True), TASKS, NOW) is None
    assert classify(task(due_date="2026-11-20"), TASKS, NOW).overdue is False
    assert classify(task(due_date="2026-11-18", done=True), TASKS, NOW) is None
    assert classify(task(subject="no due date"), TASKS, NOW) is None


def test_due_and_done_are_read_by_role_whatever_the_fields_are_called() -> None:
    assert classify(task(deadline="2026-11-19T16:00:00Z"), TODOS, NOW).overdue is True
    assert classify(task(deadline="2026-11-20"), TODOS, NOW).overdue is False  # a date: today
    assert classify(task(deadline="2026-11-19", state="completed"), TODOS, NOW) is None
    assert classify(task(deadline="2026-11-19", state="open"), TODOS, NOW).overdue is True
    # the names My day used to guess mean nothing to a kind that declares others
    assert classify(task(due_at="2026-11-19T16:00:00Z"), TODOS, NOW) is None
    assert classify(task(deadline="2026-11-19", done=True), TODOS, NOW).overdue is True


async def test_my_day_lists_an_overdue_freshsales_task_and_opens_it(demo: Demo) -> None:
    demo.app.clock = lambda: Fake.NOW
    async with demo.app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
        screen = pilot.app.screen
        assert isinstance(screen, MyDayScreen)
        await wait_for(
            pilot, lambda: not screen.refreshing and any(t.overdue for t in screen.tasks)
        )
        overdue = [t for t in screen.tasks if t.overdue]
        # Truly overdue and open at the vendor: the sandbox's own data says so.
        vendor_task = demo.db.tasks[int(overdue[0].record.id)]
        assert vendor_task["status"] == 0 and vendor_task["due_date"] < "2026-11-20T09:00"
        table = screen.query_one(DataTable)
        headings = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert headings[0].startswith("Overdue (") and any(
            h.startswith("Today (") for h in headings
        )
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        chosen = screen.refs[key]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        assert pilot.app.screen.ref == chosen and chosen.kind == "task"


async def test_my_day_from_the_palette(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await run_command(pilot, "My day")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
