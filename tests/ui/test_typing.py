"""Fast typing in the record screen: every key reaches the editor, in order.

Pilot presses ``e``, ``ctrl+u``, the new value and ``enter`` with no pause between
keys (as a fast typist or a paste does), on a text field and a choice field of each
vendor; what the vendor's sandbox then holds must be exactly what was typed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import ListView

from crmtui.model import FieldSpec, FieldType
from crmtui.ui.screens.record import FieldEditor, FieldItem, RecordScreen
from tests.helpers.ui import Demo, burst, highlight, open_record, sent, wait_for

SIZE = (130, 40)

# vendor -> (kind, or a prefix of it, a text field, a choice field)
CASES = {
    "salesseek": ("deal", "name", "stage"),
    "salesloft": ("company", "name", "account_stage"),
    "activecampaign": ("deal", "name", "status"),
    "freshsales": ("deal", "name", "stage"),
    "salesforceiq": ("list:", "name", "stage"),
}


def other_choice(spec: FieldSpec, current: object) -> str:
    """The label of a choice other than the current one that no other label starts with,
    in the current one's group (a stage of the record's pipeline)."""
    labels = [c.label for c in spec.choices]
    now = spec.choice(current)
    return next(
        c.label
        for c in spec.choices
        if c.value != current
        and (now is None or c.group == now.group)
        and c.label.strip()
        and sum(label.lower().startswith(c.label.lower()) for label in labels) == 1
    )


def unique_prefix(spec: FieldSpec, label: str) -> str:
    """The shortest start of ``label`` that no other choice's label starts with."""
    others = [c.label.lower() for c in spec.choices if c.label != label]
    return next(
        label[:n]
        for n in range(1, len(label) + 1)
        if not any(o.startswith(label[:n].lower()) for o in others)
    )


@pytest.mark.parametrize("vendor", list(CASES))
async def test_keys_typed_with_no_pause_all_reach_the_vendor(
    vendor: str, vendor_demo: Callable[[str], Demo]
) -> None:
    demo = vendor_demo(vendor)
    kind, text_key, choice_key = CASES[vendor]
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, vendor, kind)

        # Pilot, every key pressed with no pause: a text field, then a choice field
        item = await highlight(pilot, screen, text_key)
        typed = "Quick brown fox 42"
        await pilot.press("e", "ctrl+u", *typed, "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert await sent(pilot, demo, screen.ref, text_key) == typed

        item = await highlight(pilot, screen, choice_key)
        assert item.spec.type is FieldType.CHOICE
        label = other_choice(item.spec, item.value)
        await pilot.press("e", "ctrl+u", *label, "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert item.spec.choice_label(await sent(pilot, demo, screen.ref, choice_key)) == label

        # a paste: every key delivered at once; tab completes a choice from its start
        item = await highlight(pilot, screen, text_key)
        typed = "Pasted name, n f e"  # n (note), f (filter), e (edit) are the screen's keys
        await burst(pilot, "e", "ctrl+u", *typed, "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert await sent(pilot, demo, screen.ref, text_key) == typed

        item = await highlight(pilot, screen, choice_key)
        label = other_choice(item.spec, item.value)
        await burst(pilot, "e", "ctrl+u", *unique_prefix(item.spec, label), "tab", "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert item.spec.choice_label(await sent(pilot, demo, screen.ref, choice_key)) == label
        assert isinstance(pilot.app.screen, RecordScreen)  # no key opened a dialog


async def burst_events(pilot: Pilot, *keys: str | events.Event) -> None:
    """Like ``burst``, with events (a ``Paste``) among the keys."""
    app = pilot.app
    for key in keys:
        if isinstance(key, events.Event):
            app.post_message(key)
            continue
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        char = key if len(key) == 1 else {"enter": "\r", "tab": "\t"}.get(key)
        app.post_message(events.Key(name, char))
    await pilot.pause()


async def test_a_burst_acts_in_the_order_typed(vendor_demo: Callable[[str], Demo]) -> None:
    """Pasted lines, ``down e``, keys after ``enter``, two quick flips: each as typed."""
    demo = vendor_demo("freshsales")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "contact")
        ref = screen.ref

        # a paste of two lines: both kept, on one line (only "Head of" was saved)
        item = await highlight(pilot, screen, "job_title")
        await burst_events(pilot, "e", "ctrl+u", events.Paste("Head of\nSales EMEA"), "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert await sent(pilot, demo, ref, "job_title") == "Head of Sales EMEA"
        # a paste of one line is kept as it is, its last space too, then typing goes on
        await burst_events(pilot, "e", "ctrl+u", events.Paste("VP of "), *"Sales", "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert await sent(pilot, demo, ref, "job_title") == "VP of Sales"

        # down then e: the next field is edited (it was the one highlighted before down)
        fields = screen.query_one("#fields", ListView)
        rows = list(fields.query(FieldItem))
        first = await highlight(pilot, screen, "job_title")
        below = rows[rows.index(first) + 1]
        assert below.spec.writable and below.spec.type is FieldType.TEXT
        await burst(pilot, "down", "e", "ctrl+u", *"Paris", "enter")
        await wait_for(pilot, lambda: not below.editing and not first.editing)
        assert await sent(pilot, demo, ref, below.spec.key) == "Paris"
        assert (await demo.crm.get(ref)).fields["job_title"] == "VP of Sales"

        # the keys after enter: a note typed right after saving a field (it was lost)
        item = await highlight(pilot, screen, "job_title")
        await burst(pilot, "e", "ctrl+u", *"CTO", "enter", "n", *"Call back", "ctrl+s")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        assert await sent(pilot, demo, ref, "job_title") == "CTO"
        notes = [a.body or a.summary for a in await demo.crm.timeline(ref)]
        assert "Call back" in notes

        # two quick enters on a yes/no field flip it twice (it flipped once)
        item = next(i for i in fields.query(FieldItem) if i.spec.type is FieldType.BOOL)
        item = await highlight(pilot, screen, item.spec.key)
        before = bool(item.value)
        await burst(pilot, "enter", "enter")
        assert bool(await sent(pilot, demo, ref, item.spec.key)) is before
        await burst(pilot, "enter", "enter", "enter")
        assert bool(await sent(pilot, demo, ref, item.spec.key)) is not before


async def test_an_unexpected_error_saving_shows_its_reason(
    vendor_demo: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any error, not only a refused value, is shown under the editor (it was an empty line)."""
    demo = vendor_demo("freshsales")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "contact")
        item = await highlight(pilot, screen, "job_title")

        async def broken(*args: object) -> None:
            raise ValueError("offset must be a timedelta")

        monkeypatch.setattr(demo.crm, "edit", broken)
        await burst(pilot, "e", "ctrl+u", *"CTO", "enter")
        error = str(item.query_one(".field-error").render())
        assert "offset must be a timedelta" in error and "not saved" in error
        assert item.editing and screen.query_one(FieldEditor).value == "CTO"
