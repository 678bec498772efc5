"""The roles each vendor's kinds declare resolve to real fields of the right type.

The board, the row colours, My day, the record screen and the validation of money read
a field through its role (``KindInfo.roles``), never by its name: a role naming a field
the kind does not have, or one of the wrong type, would silently lose them. Every vendor,
wired to its sandbox, is checked here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crmtui import vendors
from crmtui.model import FieldSpec, FieldType, KindInfo, Role

# The field types each role may have.
TYPES: dict[Role, set[FieldType]] = {
    Role.TITLE: {FieldType.TEXT},
    Role.AMOUNT: {FieldType.MONEY, FieldType.NUMBER},
    Role.CURRENCY: {FieldType.CHOICE, FieldType.TEXT},
    Role.PIPELINE: {FieldType.CHOICE},
    Role.STAGE: {FieldType.CHOICE},
    Role.STATUS: {FieldType.CHOICE},
    Role.OWNER: {FieldType.USER},
    Role.DUE: {FieldType.DATE, FieldType.DATETIME},
    Role.DUE_DATE: {FieldType.DATE},
    Role.DONE: {FieldType.BOOL, FieldType.CHOICE},
}
VENDORS = ["activecampaign", "freshsales", "salesforceiq", "salesloft", "salesseek"]


def test_every_role_has_its_types() -> None:
    assert set(TYPES) == set(Role)


def test_the_five_vendors_are_checked() -> None:
    assert set(VENDORS) <= set(vendors.available())


def problems(info: KindInfo, specs: list[FieldSpec], kinds: set[str]) -> list[str]:
    """What is wrong with a kind's declared roles, references and My day views."""
    by_key = {spec.key: spec for spec in specs}
    out = []
    for role, key in info.roles.items():
        spec = by_key.get(key)
        if spec is None:
            out.append(f"{role} names {key!r}, not a field of {info.kind}")
        elif spec.type not in TYPES[role]:
            out.append(f"{role} names {key!r}, a {spec.type} field")
    done = by_key.get(info.roles.get(Role.DONE, ""))
    if done is not None and done.type is FieldType.CHOICE:
        values = {choice.value for choice in done.choices}
        if not info.done_values or not set(info.done_values) <= values:
            out.append(f"done is a choice: done_values {info.done_values} not among {values}")
    elif info.done_values:
        out.append("done_values without a choice field for Role.DONE")
    status = by_key.get(info.roles.get(Role.STATUS, ""))
    if status is not None and status.choice("open") is None:
        out.append("the status field has no 'open' choice (the board's open filter)")
    stage, pipeline = info.roles.get(Role.STAGE), info.roles.get(Role.PIPELINE)
    if pipeline is not None and stage is None:
        out.append("a pipeline without a stage")
    for key, kind in info.references.items():
        if key not in by_key:
            out.append(f"reference {key!r} is not a field of {info.kind}")
        if kind not in kinds:
            out.append(f"reference {key!r} points at {kind!r}, not a kind of the vendor")
    if info.day_views and Role.DUE not in info.roles:
        out.append("day_views on a kind without Role.DUE")
    out += [f"day view {v!r} is not a view" for v in info.day_views if v not in info.views]
    if info.board_field is not None and info.board_field != info.roles.get(Role.STAGE):
        out.append(f"board_field {info.board_field!r} is not the stage role")
    return out


@pytest.mark.parametrize("vendor", VENDORS)
async def test_every_role_resolves_to_a_field_of_its_type(
    wire: Callable[..., Any], vendor: str
) -> None:
    adapter = wire(vendor).adapter
    kinds = await adapter.kinds()
    names = {info.kind for info in kinds}
    found = {}
    for info in kinds:
        found[info.kind] = problems(info, await adapter.fields(info.kind), names)
    assert {kind: p for kind, p in found.items() if p} == {}
    # the meanings the UI needs are declared somewhere: a title on every kind, a task
    # kind for My day wherever the vendor has tasks, a deal's money and stage
    assert all(Role.TITLE in info.roles for info in kinds if info.kind in ("deal", "task"))
    if "task" in names:
        task = next(info for info in kinds if info.kind == "task")
        assert {Role.DUE, Role.DONE} <= set(task.roles)
    for info in kinds:
        if info.kind == "deal" or info.kind.startswith("list:"):
            assert {Role.AMOUNT, Role.STAGE, Role.STATUS} <= set(info.roles), info.kind


def test_a_wrong_declaration_is_caught() -> None:
    """The checker itself: each kind of mistake is named."""
    specs = [
        FieldSpec(key="name", label="Name"),
        FieldSpec(key="total", label="Total", type=FieldType.TEXT),
        FieldSpec(key="state", label="State", type=FieldType.CHOICE),
    ]
    info = KindInfo(
        kind="deal",
        label="Deals",
        singular="Deal",
        roles={Role.TITLE: "name", Role.AMOUNT: "total", Role.STAGE: "missing"},
        references={"company": "company"},
        day_views=["overdue"],
    )
    found = problems(info, specs, {"deal"})
    assert any("amount names 'total', a text field" in p for p in found)
    assert any("stage names 'missing'" in p for p in found)
    assert any("reference 'company' is not a field" in p for p in found)
    assert any("points at 'company'" in p for p in found)
    assert any("day_views on a kind without" in p for p in found)
