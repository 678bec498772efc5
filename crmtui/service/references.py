"""References shown by name: a field holding another record's id (``KindInfo.references``)
is shown as that record's title, read from the cache.

Resolution is done in batches, one query per referenced kind for a whole window of rows
(``References.annotate``), by whoever reads the records (in a thread, off the paint path):
the screens then only draw ``Record.names``. An id the cache does not hold is never shown
bare as if it were a name: it reads ``#4000093 (not in cache)``.

A user (an owner, an assignee: a ``FieldType.USER`` field) is a reference too, to the
vendor's users, which are not records: its value is named from the field's choices (the
vendor's users as ``mapping.UserShape`` declares them, cached with the specs, so offline
too), picked by name or email (``match_users``) and opened as a card (``user_card``).
A field holding several records (a SalesforceIQ account's contacts) holds a list of ids,
shown as their names joined (``Ana Ruiz, Ben Ode``) and checked one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from crmtui.fields import FieldError, display
from crmtui.model import Choice, FieldSpec, FieldType, KindInfo, Record

EMPTY = "empty"  # a value that is not there, as a change describes it (never "None")


class Titles(Protocol):
    """The store's batch read of titles (``Store.titles``)."""

    def titles(self, profile: str, kind: str, ids: Iterable[str]) -> dict[str, str]: ...


def not_cached(id: str) -> str:
    """An id whose record the cache does not hold, said as such (never as a name)."""
    return f"#{id} (not in cache)"


def reference_ids(value: Any) -> list[str]:
    """The ids a reference field's value holds (one, or a list of them), blanks left out."""
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if v not in (None, "")]


def is_user(spec: FieldSpec | None) -> bool:
    """Whether ``spec`` holds a user of the vendor (an owner, an assignee)."""
    return spec is not None and spec.type is FieldType.USER


def holds_users(spec: FieldSpec | None) -> bool:
    """Whether ``spec`` holds several of the vendor's users (SalesforceIQ's collaborators)."""
    return spec is not None and spec.type is FieldType.MULTI_CHOICE and spec.users


def is_multi(spec: FieldSpec | None) -> bool:
    """Whether a reference field holds several records (a list of ids)."""
    return spec is not None and spec.type is FieldType.MULTI_CHOICE


@dataclass(frozen=True)
class UserCard:
    """What a rep sees of a user (enter on an owner): the name, email and role the vendor
    gives, whether it is the profile's own user, and whether the vendor's users (as last
    read, cached with the field's specs) hold it at all."""

    id: str
    name: str
    email: str = ""
    role: str = ""
    you: bool = False
    known: bool = True

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows of the card, those the vendor gives."""
        rows = [("Name", self.name + (" (you)" if self.you else ""))]
        rows += [(label, v) for label, v in (("Email", self.email), ("Role", self.role)) if v]
        return rows


def user_card(spec: FieldSpec, value: Any, me: str | None = None) -> UserCard | None:
    """The card of the user ``value`` of the field ``spec`` (None when it holds none);
    ``me``: the profile's own user id (``Crm.me``). A user the choices lack is said so."""
    ids = reference_ids(value)
    if not ids:
        return None
    uid = ids[0]
    choice = spec.choice(uid)
    you = me is not None and str(me) == uid
    if choice is None:
        return UserCard(id=uid, name=not_cached(uid), you=you, known=False)
    return UserCard(
        id=uid, name=choice.label, email=choice.email or "", role=choice.role or "", you=you
    )


def match_users(choices: Sequence[Choice], text: str, limit: int = 50) -> list[Choice]:
    """The users whose name or email matches ``text`` (any case), best first: the name
    starting with it, then a word of the name or the email, then anywhere; all of them
    (as listed) when ``text`` is blank. Each user once."""
    wanted = text.strip().casefold()
    unique = list({c.value: c for c in choices}.values())
    if not wanted:
        return unique[:limit]

    def rank(choice: Choice) -> int | None:
        name, email = choice.label.casefold(), (choice.email or "").casefold()
        if name.startswith(wanted):
            return 0
        words = [*name.split(), *email.replace(".", " ").replace("@", " ").split()]
        if any(w.startswith(wanted) for w in words) or email.startswith(wanted):
            return 1
        return 2 if wanted in name or wanted in email else None

    ranked = [(r, i, c) for i, c in enumerate(unique) if (r := rank(c)) is not None]
    return [c for _, _, c in sorted(ranked, key=lambda t: (t[0], t[1]))][:limit]


def picked_value(spec: FieldSpec, ids: Sequence[str]) -> str:
    """What an edit of a multi-reference field queues for the records picked, in order
    (``validate`` reads it back as the list of ids); ``FieldError`` for an id that could
    move another one (a comma) or a field needing one record at least."""
    for id in ids:
        if "," in id or not id.strip():
            raise FieldError(f"{spec.label}: {id!r} is not a record id; pick from the list")
    if not ids and spec.required:
        raise FieldError(f"{spec.label} needs at least one; pick one from the list")
    return ", ".join(dict.fromkeys(ids))


def related_titles(record: Record) -> dict[tuple[str, str], str]:
    """The titles the vendor sent with ``record`` for its related records, by (kind, id)."""
    return {(r.kind, r.id): r.title for refs in record.related.values() for r in refs if r.title}


def shown_reference(value: Any, titles: dict[str, str]) -> str:
    """A reference field's value by name: each id's title, or ``not_cached``."""
    return ", ".join(titles.get(i) or not_cached(i) for i in reference_ids(value))


def shown(spec: FieldSpec | None, record: Record, currency: str | None = None) -> str:
    """A field of ``record`` as a rep reads it: a reference by the record's name (as
    resolved into ``Record.names``), any other value as ``display`` shows it."""
    if spec is not None and spec.key in record.names:
        return record.names[spec.key]
    return display(spec, record.fields.get(spec.key) if spec else None, currency=currency)


class References:
    """Resolves reference fields to the referenced records' titles, from the cache.

    ``kind_info(profile, kind)``: the kind as last read (its ``references``).
    """

    def __init__(self, store: Titles, kind_info: Callable[[str, str], KindInfo | None]) -> None:
        self.store = store
        self.kind_info = kind_info

    def titles(self, profile: str, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The cached titles of (kind, id) pairs, one query per kind."""
        by_kind: dict[str, set[str]] = defaultdict(set)
        for kind, id in wanted:
            by_kind[kind].add(id)
        found: dict[tuple[str, str], str] = {}
        for kind, ids in by_kind.items():
            for id, title in self.store.titles(profile, kind, ids).items():
                found[(kind, id)] = title
        return found

    def names(self, profile: str, kind: str, values: dict[str, Any]) -> dict[str, str]:
        """``values``' reference fields (of a record of ``kind``) by name: key -> text."""
        info = self.kind_info(profile, kind)
        refs = info.references if info is not None else {}
        wanted = {(refs[k], i) for k, v in values.items() if k in refs for i in reference_ids(v)}
        titles = self.titles(profile, wanted)
        return {
            key: shown_reference(
                value, {i: titles.get((refs[key], i), "") for i in reference_ids(value)}
            )
            for key, value in values.items()
            if key in refs and reference_ids(value)
        }

    def annotate(self, records: Sequence[Record]) -> Sequence[Record]:
        """Fill ``Record.names`` of each record: one query per referenced kind for all
        of them (a window of a list, search results). Returns ``records``."""
        wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
        plans: list[tuple[Record, dict[str, str]]] = []
        infos: dict[tuple[str, str], KindInfo | None] = {}
        for record in records:
            key = (record.profile, record.kind)
            if key not in infos:
                infos[key] = self.kind_info(*key)
            info = infos[key]
            refs = info.references if info is not None else {}
            if not refs:
                continue
            plans.append((record, refs))
            for field, target in refs.items():
                for id in reference_ids(record.fields.get(field)):
                    wanted[record.profile].add((target, id))
        titles = {profile: self.titles(profile, pairs) for profile, pairs in wanted.items()}
        for record, refs in plans:
            # the cache's title first (it follows queued edits), else the title the
            # vendor sent with the record itself (``Record.related``)
            found = {**related_titles(record), **titles.get(record.profile, {})}
            names = record.names
            names.clear()
            for field, target in refs.items():
                value = record.fields.get(field)
                if reference_ids(value):
                    ids = reference_ids(value)
                    names[field] = shown_reference(
                        value, {i: found.get((target, i), "") for i in ids}
                    )
        return records

    def describe(self, profile: str, kind: str, spec: FieldSpec | None, value: Any) -> str:
        """One value of a change as the record shows it: a reference by name, a choice
        by its label, a missing value as "empty"."""
        if value in (None, "", []):
            return EMPTY
        if spec is not None:
            named = self.names(profile, kind, {spec.key: value})
            if spec.key in named:
                return named[spec.key]
        return display(spec, value) or EMPTY
