"""How Salesloft's v2 values read and write, for the declared fields (``resources.py``).

v2 sends what it holds as it is: text and numbers are kept as sent and written back as
given (an emptied field is sent as ``""``), references arrive as ``{"_href", "id"}`` (or a
bare id) and are written as integer ids under another name (``owner`` is read,
``owner_id`` written), and a task's state is two attributes (``current_state``,
``completed_at``) behind two neutral keys (``done``, ``status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmtui.fields import iso, parse_datetime
from crmtui.http import Rejected
from crmtui.model import FieldSpec, FieldType
from crmtui.vendors.mapping import Codec, Context, Field, Via, dig, flag, record_id


def ref_value(value: Any) -> int | None:
    """The id of a v2 reference (``{"_href", "id"}``, ``{"id"}`` or a bare int); a bad id
    (``1.5``, ``true``, ``{...}``, ``10**300``) is refused as ``record_id`` refuses it."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    record_id("Salesloft", value, "reference to a record")
    return value if isinstance(value, int) else None


def ref_id(raw: Mapping[str, Any], key: str) -> int | None:
    """The id of the reference at ``raw[key]`` (see ``ref_value``)."""
    return ref_value(raw.get(key))


AS_IS = Via()  # as v2 sent it, and as the user gave it ("" empties the field)
OR_NONE = Via(lambda raw: raw or None)  # text that reads as None when v2 sends it empty
FLAG = Via(flag)  # a flag: absent or null reads as False, "false" too, an odd value unknown
IS_SET = Via(lambda raw: raw is not None)  # v2 gave it a value (``archived_at``: archived)
ITEMS = Via(lambda raw: list(raw or []))  # a list (tags): absent or null reads as []
WHEN = Via(lambda raw: iso(parse_datetime(raw)))  # a timestamp as ISO 8601; sent as given


class Ref(Codec):
    """A reference (``{"_href", "id"}`` or a bare id), read as its checked integer id as
    text; written as an integer (``""``/None as given)."""

    def read(self, raw: Any, ctx: Context) -> Any:
        found = ref_value(raw)
        return None if found is None else str(found)

    def write(self, value: Any, ctx: Context) -> Any:
        return value if value in (None, "") else int(value)


class TextRef(Ref):
    """A reference v2 takes back as text (a task's ``person_id`` in ``POST /v2/tasks``)."""

    def write(self, value: Any, ctx: Context) -> Any:
        return value if value in (None, "") else str(int(value))


@dataclass(frozen=True)
class Table(Codec):
    """A reference shown by name: the referred id looked up in ``ctx.tables[table]``
    (the people named on this page); None when unknown."""

    table: str

    def read(self, raw: Any, ctx: Context) -> Any:
        found = ref_value(raw)
        return None if found is None else ctx.tables.get(self.table, {}).get(str(found))

    def write(self, value: Any, ctx: Context) -> Any:
        raise NotImplementedError("a name looked up is never written")


TASK_TYPES = {"call": "call", "email": "email", "general": "todo"}  # v2 -> neutral


class TaskType(Codec):
    """v2's ``task_type`` (``general`` is the neutral ``todo``; others are ``other``)."""

    def read(self, raw: Any, ctx: Context) -> Any:
        return TASK_TYPES.get(str(raw), "other")

    def write(self, value: Any, ctx: Context) -> Any:
        return "general" if value in ("todo", "other") else value


class TaskState(Codec):
    """``done`` (True) or ``status`` ("completed") written as ``current_state=completed``,
    the only state ``PUT /v2/tasks/{id}`` takes: v2 cannot reopen a completed task, so
    reopening is refused here, before anything is sent."""

    def read(self, raw: Any, ctx: Context) -> Any:
        return raw

    def write(self, value: Any, ctx: Context) -> Any:
        if value is True or value == "completed":
            return "completed"
        raise Rejected(
            ctx.vendor,
            f"{ctx.vendor} cannot reopen a task: its API only completes tasks",
            hint="Create a new task instead.",
        )


TASK_STATE = TaskState()


@dataclass(frozen=True, kw_only=True)
class FirstOf(Field):
    """Read from the first of ``paths`` v2 filled (an email's ``sent_at`` or, unsent,
    ``send_after``)."""

    paths: tuple[str, ...] = ()

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        raw = next((v for p in self.paths if (v := dig(item, p))), None)
        return codec.read(raw, ctx)


def person_title(raw: Mapping[str, Any]) -> str:
    """A person's name: ``display_name``, else first and last name, else the email."""
    name = " ".join(str(x) for x in (raw.get("first_name"), raw.get("last_name")) if x)
    return str(raw.get("display_name") or name or raw.get("email_address") or "")


@dataclass(frozen=True, kw_only=True)
class PersonTitle(Field):
    """A person's shown name (read only)."""

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        return person_title(item)


@dataclass(frozen=True, kw_only=True)
class Done(Field):
    """Whether a task is done: completed, or given a completion time; written as its
    ``current_state``."""

    codec: Codec | None = TASK_STATE

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        return item.get("current_state") == "completed" or item.get("completed_at") is not None


@dataclass(frozen=True, kw_only=True)
class Status(Done):
    """A task's status, ``completed`` or ``open``: offered read only (``done`` is the
    field the user edits), yet written when given (as ``current_state``)."""

    type: FieldType = FieldType.CHOICE

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        return "completed" if super().read(item, codec, ctx) else "open"

    def spec(self, **kwargs: Any) -> FieldSpec:
        return super().spec(**kwargs).model_copy(update={"writable": False})


@dataclass(frozen=True, kw_only=True)
class CreateOnly(Field):
    """A field v2 takes when the record is created and never after (a task's person,
    owner and type: ``PUT /v2/tasks/{id}`` takes none of them): offered read only, with
    ``FieldSpec.on_create``; the adapter writes it only in a create."""

    def spec(self, **kwargs: Any) -> FieldSpec:
        found = super().spec(**kwargs)
        return found.model_copy(update={"writable": False, "required": False, "on_create": True})
