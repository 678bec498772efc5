"""Optimistic rows: the server's version of a record with its unfinished changes applied.

While a record has changes that are not done, its ``server`` column keeps what the server
last said (captured at the first enqueue, replaced by every refresh) and the row shows
that version with each unfinished change applied in order. Every event (enqueue, edit,
discard, refresh, completion) recomputes the row with ``rebuild``, so a refresh never
hides the user's edit, and a discard shows the server's latest values (the base values
when the server has not moved). When no change is left, the row is the server's version.

Titles follow edits where they can be inferred: a title (or subtitle) equal to the old
value of an edited field, or to "first_name last_name", takes the new value; an amount,
date or moment a vendor wrote into it in the one display format (``fields.money_text``,
``date_text``, ``local_text``: vendors build titles with nothing else) is replaced by the
edited one, so a queued amount, currency or due date shows in the title, the list, the
board and search at once.

Fields the vendor changes along with an edit (``KindInfo.follows``, declared by the
vendor: a Salesloft task's status when it is completed and its due moment when its due
date moves, a SalesSeek organization's name when the organization changes) are shown
with it at once, as the vendor will make them; they are never sent.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ConfigDict, TypeAdapter

from crmtui.fields import date_text, local_text, money_text, parse_date, parse_datetime
from crmtui.model import (
    Change,
    ChangeOp,
    ChangeState,
    Follow,
    FollowRule,
    KindInfo,
    Record,
    RecordRef,
)
from crmtui.store import rows

PLACEHOLDER_PREFIX = "local:"

_TITLE_KEYS = ("name", "title", "subject")
# built when first used, as the models are (``crmtui.model._Model``)
_KINDS = TypeAdapter(list[KindInfo], config=ConfigDict(defer_build=True))


def placeholder_id(change: Change) -> str:
    return f"{PLACEHOLDER_PREFIX}{change.id}"


def unfinished(conn: sqlite3.Connection, ref: RecordRef) -> list[Change]:
    """The changes of one record that are not done, oldest first."""
    found = conn.execute(
        "SELECT data FROM outbox WHERE profile = ? AND kind = ? AND record_id = ?"
        " AND state != ? ORDER BY seq",
        (*rows.key(ref), ChangeState.DONE.value),
    ).fetchall()
    return [Change.model_validate_json(data) for (data,) in found]


def _full_name(fields: dict[str, Any]) -> str:
    return " ".join(str(fields[k]) for k in ("first_name", "last_name") if fields.get(k)).strip()


def _follow(text: str, old: dict[str, Any], new: dict[str, Any], changed: dict[str, Any]) -> str:
    """``text`` (a title or subtitle) updated when it shows an edited value."""
    for field, value in changed.items():
        if field in old and text == str(old[field]) and value is not None:
            return str(value)
    if text and text == _full_name(old) and _full_name(new):
        return _full_name(new)
    own = _own_texts(old, changed)
    # a whole " · " part that is an edited text (an organization's name in a subtitle)
    texts = {
        str(old[k]): v
        for k, v in changed.items()
        if isinstance(old.get(k), str) and old[k].strip() and isinstance(v, str) and v.strip()
    }
    if texts and text not in own:
        text = " · ".join(p if p in own else texts.get(p, p) for p in text.split(" · "))
    return _replace_shown(text, _shown_edits(old, new, changed), own)


def _own_texts(old: dict[str, Any], changed: dict[str, Any]) -> set[str]:
    """The text of each field the change leaves alone (a name, a subject, a company): a
    title or a part of it that is one of them is the user's words, where a date or an
    amount that looks like the edited one is not the edited value ("Renew 2026-12-01
    contract" keeps its words when the due date 2026-12-01 moves)."""
    return {v for k, v in old.items() if k not in changed and isinstance(v, str) and v.strip()}


def _is_amount(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return False
    try:
        return Decimal(str(value)).is_finite()
    except InvalidOperation:
        return False


def _shown_edits(
    old: dict[str, Any], new: dict[str, Any], changed: dict[str, Any]
) -> list[tuple[str, str]]:
    """(as shown before, as shown after) of each value an edit changes, in the one display
    format vendors write into titles: an amount with the currency of any field holding a
    code (its amount or its currency edited), else alone; a date; a moment."""
    codes = [k for k, v in old.items() if isinstance(v, str) and re.fullmatch(r"[A-Za-z]{3}", v)]
    edits: list[tuple[str, str]] = []
    for key, value in old.items():
        if not _is_amount(value) or not (key in changed or any(c in changed for c in codes)):
            continue
        for code in [c for c in codes if key in changed or c in changed]:
            edits.append((money_text(value, old[code]), money_text(new.get(key), new.get(code))))
        if key in changed:
            edits.append((money_text(value), money_text(new.get(key))))
    for key in changed:
        value = old.get(key)
        if not isinstance(value, str) or _is_amount(value):
            continue
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            edits.append((date_text(value), date_text(new.get(key))))
        elif moment := parse_datetime(value):
            edits.append((local_text(moment), local_text(parse_datetime(new.get(key)))))
    return [(before, after) for before, after in edits if before and before != after]


def _replace_shown(text: str, edits: list[tuple[str, str]], own: set[str]) -> str:
    """``text`` with each ``before`` of ``edits`` as a whole value ("8,000.00 GBP", not
    inside "18,000.00") replaced by its ``after``, except in the " · " parts that are
    another field's own text (``own``); an emptied value leaves no stray " · "."""
    if not edits or text in own:
        return text
    parts, replaced = [], False
    for part in text.split(" · "):
        if part not in own:
            for before, after in edits:
                shown = re.compile(rf"(?<![\w.,]){re.escape(before)}(?![\w.,])")
                part, count = shown.subn(after.replace("\\", "\\\\"), part)
                replaced = replaced or bool(count)
        parts.append(part)
    if not replaced:
        return text
    return " · ".join(part for part in parts if part.strip())


def _guess_title(kind: str, values: dict[str, Any]) -> str:
    for field in _TITLE_KEYS:
        if values.get(field):
            return str(values[field])
    # a person's name before their email, as the vendors title a contact once it is made
    # (a Freshsales contact created offline showed its email until it was sent)
    return _full_name(values) or str(values.get("email") or "") or f"New {kind}"


def placeholder(change: Change, vendor: str) -> rows.Version:
    """The record a queued create shows until the server gives the real one."""
    ref = change.ref
    record = Record(
        vendor=vendor,
        profile=ref.profile,
        kind=ref.kind,
        id=ref.id,
        title=_guess_title(ref.kind, change.values),
        fields=dict(change.values),
        created_at=change.created_at,
        updated_at=change.created_at,
    )
    return rows.Version(record)


def followed(
    follows: list[Follow],
    fields: dict[str, Any],
    values: dict[str, Any],
    name: Callable[[str, str], str | None] = lambda field, id: None,
) -> dict[str, Any]:
    """The values the vendor sets along with ``values`` (an edit of a record holding
    ``fields``), as the kind declares them (``KindInfo.follows``); ``name(field, id)``:
    the title of the record the reference ``field`` points at by ``id`` (None: unknown,
    the field it names is left as it is)."""
    out: dict[str, Any] = {}
    for rule in follows:
        if rule.field not in values or rule.sets in values:
            continue
        value = values[rule.field]
        if rule.rule is FollowRule.VALUE:
            if rule.when is None or value == rule.when:
                out[rule.sets] = rule.to
        elif rule.rule is FollowRule.NAME:
            title = name(rule.field, str(value)) if value not in (None, "") else None
            if title is not None or value in (None, ""):
                out[rule.sets] = title
        else:  # DAY: the moment on the new day, at the time of day it had
            day, moment = parse_date(value), parse_datetime(fields.get(rule.sets))
            if day is not None and moment is not None:
                moved = moment.replace(year=day.year, month=day.month, day=day.day)
                out[rule.sets] = moved.isoformat()
    return out


def apply(
    version: rows.Version | None,
    change: Change,
    vendor: str,
    follows: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
) -> rows.Version | None:
    """``version`` with ``change`` applied (None: no record yet); ``follows(fields,
    values)``: what the vendor changes along with it (``followed``), shown too."""
    if change.op is ChangeOp.CREATE:
        return placeholder(change, vendor)
    if version is None:
        return None
    if change.op is ChangeOp.DELETE:
        return version.deleted_as(True)
    old = version.record
    changed = {**(follows(old.fields, change.values) if follows else {}), **change.values}
    fields = {**old.fields, **changed}
    record = old.model_copy(
        update={
            "fields": fields,
            "title": _follow(old.title, old.fields, fields, changed),
            "subtitle": _follow(old.subtitle, old.fields, fields, changed),
        }
    )
    return rows.Version(record, version.deleted)


def _follows_of(
    conn: sqlite3.Connection, ref: RecordRef
) -> Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None:
    """``followed`` for the records of ``ref``'s kind, as its cached ``KindInfo``
    declares (None: it declares nothing, or the kinds are not cached)."""
    found = conn.execute("SELECT data FROM kinds WHERE profile = ?", (ref.profile,)).fetchone()
    infos = _KINDS.validate_json(found[0]) if found else []
    info = next((i for i in infos if i.kind == ref.kind), None)
    if info is None or not info.follows:
        return None
    follows, targets = info.follows, info.references

    def name(field: str, id: str) -> str | None:
        kind = targets.get(field)
        shown = rows.read(conn, RecordRef(profile=ref.profile, kind=kind, id=id)) if kind else None
        return shown[0].record.title if shown else None

    return lambda fields, values: followed(follows, fields, values, name)


def vendor_of(conn: sqlite3.Connection, profile: str) -> str:
    """The vendor of a profile, as seen on its records (the profile name if unknown)."""
    found = conn.execute("SELECT vendor FROM profiles WHERE profile = ?", (profile,)).fetchone()
    if found and found[0]:
        return str(found[0])
    found = conn.execute("SELECT vendor FROM records WHERE profile = ? LIMIT 1", (profile,))
    row = found.fetchone()
    return str(row[0]) if row else profile


def rebuild(
    conn: sqlite3.Connection,
    ref: RecordRef,
    *,
    server: rows.Version | None = None,
) -> None:
    """Recompute the row of ``ref`` from its server version and its unfinished changes.

    ``server``: a newer server version to keep (a refresh or a completed change);
    otherwise the one already kept, or the row itself when nothing was queued.
    """
    current = rows.read(conn, ref)
    if server is None and current is not None:
        shown, kept = current
        server = kept if kept is not None or ref.id.startswith(PLACEHOLDER_PREFIX) else shown
    changes = unfinished(conn, ref)
    if not changes:
        if server is None:
            rows.delete(conn, ref)
        else:
            rows.write(conn, server)
        return
    vendor = server.record.vendor if server else vendor_of(conn, ref.profile)
    follows = _follows_of(conn, ref)
    version = server
    for change in changes:
        version = apply(version, change, vendor, follows)
    if version is None:
        rows.delete(conn, ref)
    else:
        rows.write(conn, version, server=server)
