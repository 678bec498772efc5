"""How records, lists, timelines and the outbox look in a notebook, and as DataFrames.

Everything shown is HTML-escaped, after ``crmtui.text.clean`` made control characters and
bidi overrides visible placeholders (as on the terminal): record titles and notes come
from the CRM and may hold markup or escape sequences. Links are only made for
``http``/``https`` addresses. Nothing here reads a
profile, so no secret can reach a rendered cell.

DataFrames (``to_pandas``) use field keys as column names and the record id as index;
choices and users become their labels, money becomes a float, dates and date-times
become pandas timestamps (UTC for date-times), so the frame is ready for analysis.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape as html_escape
from types import ModuleType
from typing import Any

from crmtui.fields import display, local_text
from crmtui.model import Activity, Change, FieldSpec, FieldType, KindInfo, Record, Role
from crmtui.text import clean

PANDAS_HINT = "pandas is not installed; install it with: pip install 'crmtui[pandas]'"
_BUILTIN_COLUMNS = {
    "title": "Title",
    "subtitle": "Summary",
    "kind": "Kind",
    "id": "Id",
    "created_at": "Created",
    "updated_at": "Updated",
}
_BUILTIN_COLUMNS_ORDER = ("id", "kind", "title", "subtitle", "created_at", "updated_at")
_ACTIVITY_COLUMNS = ("id", "occurred_at", "type", "summary", "who", "body", "family")
_LABELLED = (FieldType.CHOICE, FieldType.USER, FieldType.MULTI_CHOICE)
_STYLE = "text-align:left;vertical-align:top"

Specs = Mapping[str, FieldSpec]


def require_pandas() -> ModuleType:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise ImportError(PANDAS_HINT) from exc


# -- cells ----------------------------------------------------------------------------


def escape(text: str, *, multiline: bool = False) -> str:
    """Vendor text for HTML: inert (``clean``), then HTML-escaped; never cut."""
    return html_escape(clean(text, multiline=multiline, limit=None))


def _when(dt: datetime | None) -> str:
    """A moment as the app shows it: local time, marked with its zone (``local_text``)."""
    return local_text(dt)


def cell_text(record: Record, key: str, specs: Specs, info: KindInfo | None = None) -> str:
    """What a list shows for ``key`` of ``record`` (plain text, not yet escaped); money
    with the currency of the kind's ``Role.CURRENCY`` field (``info``: the record's kind)."""
    if key in ("title", "subtitle", "kind", "id"):
        return str(getattr(record, key))
    if key in ("created_at", "updated_at"):
        return _when(getattr(record, key))
    if key in record.names:  # a reference, by the record's name (``Crm`` resolved it)
        return record.names[key]
    value = record.fields.get(key)
    money = info.role(Role.CURRENCY) if info else None
    currency = record.fields.get(money) if money else None
    return display(specs.get(key), value, currency=currency if isinstance(currency, str) else None)


def column_label(key: str, specs: Specs) -> str:
    spec = specs.get(key)
    return spec.label if spec else _BUILTIN_COLUMNS.get(key, key)


def table_html(headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """A plain HTML table; every header, cell and the caption are escaped here."""
    head = "".join(f'<th style="{_STYLE}">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_STYLE}">{escape(c)}</td>' for c in row) + "</tr>"
        for row in rows
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="crmtui">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _link(url: str | None, text: str) -> str:
    if url and url.lower().startswith(("https://", "http://")):
        return f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(text)}</a>'
    return escape(text)


# -- records --------------------------------------------------------------------------


def records_html(
    records: Sequence[Record],
    columns: Sequence[str],
    specs: Specs,
    caption: str = "",
    infos: Mapping[str, KindInfo] | None = None,
) -> str:
    """A list as a table; ``infos``: the records' kinds (kind -> ``KindInfo``)."""
    infos = infos or {}
    headers = [column_label(key, specs) for key in columns]
    rows = ([cell_text(r, key, specs, infos.get(r.kind)) for key in columns] for r in records)
    return table_html(headers, rows, caption)


def record_html(record: Record, specs: Specs, info: KindInfo | None = None) -> str:
    """One record: its title, then every field with its label, then related records."""
    rows = [("Kind", record.kind), ("Id", record.id)]
    if record.subtitle:
        rows.append(("Summary", record.subtitle))
    ordered = [key for key in specs if key in record.fields]
    ordered += [key for key in record.fields if key not in specs]
    rows += [(column_label(key, specs), cell_text(record, key, specs, info)) for key in ordered]
    rows += [
        (label, ", ".join(ref.title for ref in refs))
        for label, refs in record.related.items()
        if refs
    ]
    rows += [
        (_BUILTIN_COLUMNS[key], _when(getattr(record, key)))
        for key in ("created_at", "updated_at")
        if getattr(record, key)
    ]
    title = f"<h4>{_link(record.remote_url, record.title)}</h4>"
    return title + table_html(["Field", "Value"], rows)


def _frame_value(spec: FieldSpec | None, value: Any) -> Any:
    # choices by label; a field of record ids (several contacts: no choices) keeps them
    if spec is not None and spec.type in _LABELLED and spec.choices and value not in (None, "", []):
        return display(spec, value)
    return value


def records_frame(records: Sequence[Record], specs_of: Mapping[str, Specs]) -> Any:
    """A DataFrame of records, one row each, indexed by id (``specs_of``: kind -> specs)."""
    pd = require_pandas()
    rows = []
    keys: dict[str, FieldSpec | None] = {}
    for record in records:
        specs = specs_of.get(record.kind, {})
        row: dict[str, Any] = {
            "id": record.id,
            "kind": record.kind,
            "title": record.title,
            "subtitle": record.subtitle,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
        for key, value in record.fields.items():
            keys.setdefault(key, specs.get(key))
            row.setdefault(key, _frame_value(specs.get(key), value))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*_BUILTIN_COLUMNS_ORDER, *keys])
    for column in ("created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for key, spec in keys.items():
        if spec is not None:
            frame[key] = _typed_column(pd, frame[key], spec.type)
    return frame.set_index("id")


def _typed_column(pd: ModuleType, column: Any, type_: FieldType) -> Any:
    if type_ in (FieldType.MONEY, FieldType.NUMBER):
        return pd.to_numeric(column, errors="coerce")
    if type_ is FieldType.DATETIME:
        return pd.to_datetime(column, errors="coerce", utc=True, format="ISO8601")
    if type_ is FieldType.DATE:
        return pd.to_datetime(column, errors="coerce", format="ISO8601")
    return column


# -- timelines and the outbox -----------------------------------------------------------


def timeline_html(activities: Sequence[Activity], caption: str = "") -> str:
    """A timeline as a list, newest first: when, what, who, then the body."""
    items = []
    for activity in activities:
        who = f" · {escape(activity.who)}" if activity.who else ""
        body = (
            f'<div style="white-space:pre-wrap">{escape(activity.body, multiline=True)}</div>'
            if activity.body and activity.body != activity.summary
            else ""
        )
        items.append(
            f"<li><small>{escape(_when(activity.occurred_at))} · "
            f"{escape(str(activity.type))}{who}</small><br>"
            f"<strong>{escape(activity.summary)}</strong>{body}</li>"
        )
    head = f"<p>{escape(caption)}</p>" if caption else ""
    return f'{head}<ul class="crmtui-timeline">{"".join(items)}</ul>'


def timeline_frame(activities: Sequence[Activity]) -> Any:
    pd = require_pandas()
    rows = [
        {
            "id": a.id,
            "occurred_at": a.occurred_at,
            "type": str(a.type),
            "summary": a.summary,
            "who": a.who,
            "body": a.body,
            "family": a.family,
        }
        for a in activities
    ]
    frame = pd.DataFrame(rows, columns=list(_ACTIVITY_COLUMNS))
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame.set_index("id")


def _values_text(change: Change) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in change.values.items())


def changes_html(
    changes: Sequence[Change], caption: str = "", described: Mapping[str, str] | None = None
) -> str:
    """The outbox; ``described``: each edit as the app says it (``Crm.describe``: labels,
    names, money and dates in the one display format), else its raw values."""
    headers = ["Queued", "Edit", "Record", "Values", "State", "Message"]
    rows = (
        [
            _when(c.created_at),
            str(c.op),
            f"{c.ref.kind} {c.ref.id}",
            (described or {}).get(c.id) or _values_text(c),
            str(c.state),
            c.last_error or "",
        ]
        for c in changes
    )
    return table_html(headers, rows, caption)
