"""The notebook API: the app's own service (``crmtui.service.Crm``) as a small async client.

Works with top-level ``await`` in Jupyter and IPython::

    import crmtui

    crm = await crmtui.open_demo("freshsales")        # or: await crmtui.open_profile("acme")
    page = await crm.records("deal", search="keystone", sort="amount", descending=True)
    deal = await crm.get("deal", page[0].id)
    await crm.timeline(deal)
    await crm.edit(deal, amount="12500", stage="Won")  # queued in the outbox
    await crm.sync_outbox()                            # sent; crm.queued == 0
    crm.search("omar")                                 # the cache, offline
    page.to_pandas()

Decisions:

* ``open_demo``/``open_profile`` return a ``Client`` at once; awaiting it loads the
  profile's kinds (checking the connection). Both spellings work.
* ``records`` refreshes from the vendor (up to ``limit`` records, paging as needed) and then
  reads the cache, so queued edits show and sorting/search match what the app shows.
  Offline, it answers from the cache and says so (``page.stale``). With a vendor
  ``view`` the vendor's own selection and order are kept.
* Kinds may be named by key (``"company"``) or in the vendor's words (``"Accounts"``).
* Edits, notes and logged calls (``log_call``) go through the outbox exactly as in the
  app: validated against the field specs (choices by label, e.g. ``stage="Won"``) and
  sent in the background when the event loop runs; ``sync_outbox()`` sends what is due now, retrying failed edits.
* The demo's cache is a fresh temporary file, deleted by ``close()``; a profile uses the
  app's cache, so the notebook and the terminal app share what they fetched.
* Nothing renders a profile's settings: secrets never reach a cell or a repr.
"""

from __future__ import annotations

import functools
import html
import inspect
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

from crmtui import locations
from crmtui.config import Config, ConfigError
from crmtui.demo import demo_profiles, mount
from crmtui.fields import FieldError, id_shaped, local_text, use_timezone, validate
from crmtui.http import CrmError, Http, NotFound, Offline
from crmtui.model import (
    Activity,
    Change,
    ChangeOp,
    ChangeState,
    FieldSpec,
    FieldType,
    KindInfo,
    Query,
    Record,
    RecordRef,
    Role,
    utcnow,
    whole_text,
)
from crmtui.notebook_html import (
    changes_html,
    record_html,
    records_frame,
    records_html,
    table_html,
    timeline_frame,
    timeline_html,
)
from crmtui.service import CacheUnusable, Crm, open_crm
from crmtui.service.bulk import BulkPlan
from crmtui.service.calls import LoggedCall
from crmtui.service.references import reference_ids
from crmtui.service.undo import UndoPlan

__all__ = [
    "CacheUnusable",
    "Changes",
    "Client",
    "ConfigError",
    "Fields",
    "Kinds",
    "RecordList",
    "RecordView",
    "SyncResults",
    "Timeline",
    "open_demo",
    "open_profile",
]

MAX_PER_PAGE = 100
LIST_COLUMNS = ("title", "subtitle", "updated_at", "created_at")  # besides the fields
RecordLike = Record | RecordRef | tuple[str, str] | str  # a kind, with the id apart


def _text_list(head: str, lines: Sequence[str], most: int = 20) -> str:
    """What a terminal (plain IPython, print) shows of a list: a head and a few lines."""
    more = [f"  … {len(lines) - most} more"] if len(lines) > most else []
    return "\n".join([head, *(f"  {line}" for line in lines[:most]), *more])


class RecordView(Record):
    """A record that knows its field specs: renders as a table, converts to pandas."""

    _specs: dict[str, FieldSpec] = PrivateAttr(default_factory=dict)
    _info: KindInfo | None = PrivateAttr(default=None)

    @classmethod
    def of(
        cls, record: Record, specs: Mapping[str, FieldSpec], info: KindInfo | None = None
    ) -> RecordView:
        view = cls.model_construct(**dict(record))
        view.names.update(record.names)  # references by name, as the service read them
        view._specs = dict(specs)
        view._info = info  # the kind's roles: which field is the money's currency
        return view

    @property
    def specs(self) -> dict[str, FieldSpec]:
        """The kind's field specs by key (labels, types, choices)."""
        return self._specs

    def _repr_html_(self) -> str:
        return record_html(self, self._specs, self._info)

    def to_pandas(self) -> Any:
        """A one-row DataFrame (see ``RecordList.to_pandas``)."""
        return records_frame([self], {self.kind: self._specs})


class RecordList(list[RecordView]):
    """Records of a list or a search, with what is needed to show them."""

    def __init__(
        self,
        records: Iterable[RecordView],
        *,
        columns: Sequence[str],
        caption: str,
        total: int | None = None,
        stale: str = "",
    ) -> None:
        super().__init__(records)
        self.columns = list(columns)
        self.caption = caption
        self.total = total  # matching records in the cache (None for a vendor view)
        self.stale = stale  # why the vendor was not asked ("" when it was)

    def _specs(self) -> dict[str, dict[str, FieldSpec]]:
        return {r.kind: r.specs for r in self}

    def _repr_html_(self) -> str:
        merged: dict[str, FieldSpec] = {}
        for specs in self._specs().values():
            merged = {**specs, **merged}
        infos = {r.kind: r._info for r in self if r._info is not None}
        return records_html(self, self.columns, merged, self.caption, infos)

    def to_pandas(self) -> Any:
        """A DataFrame indexed by id: field keys as columns, choices as labels."""
        return records_frame(self, self._specs())

    def __repr__(self) -> str:
        lines = [
            f"{r.kind} {r.id}: {r.title}" + (f" — {r.subtitle}" if r.subtitle else "") for r in self
        ]
        return _text_list(self.caption, lines)


class Timeline(list[Activity]):
    """A record's timeline, newest first."""

    def __init__(self, activities: Iterable[Activity], *, title: str) -> None:
        super().__init__(activities)
        self.title = title

    def _repr_html_(self) -> str:
        return timeline_html(self, f"{self.title}: {len(self)} entries")

    def to_pandas(self) -> Any:
        return timeline_frame(self)

    def __repr__(self) -> str:
        lines = [f"{local_text(a.occurred_at)} {a.type}: {a.summary}" for a in self]
        return _text_list(f"{self.title}: {len(self)} entries", lines)


class Changes(list[Change]):
    """Edits in the outbox that are not done yet (and, after a sync, how many went)."""

    def __init__(
        self,
        changes: Iterable[Change],
        *,
        sent: int | None = None,
        described: Callable[[Change], str] | None = None,
    ) -> None:
        super().__init__(changes)
        self.sent = sent
        # each edit as the app's outbox says it (labels, names, amounts with currency)
        self.described = {c.id: described(c) for c in self} if described else {}

    def summary(self) -> str:
        head = "" if self.sent is None else f"{self.sent} sent; "
        if not self:
            return head + "nothing queued"
        states = sorted({str(c.state) for c in self})
        return head + f"{len(self)} not sent yet ({', '.join(states)})"

    def _repr_html_(self) -> str:
        return changes_html(self, self.summary(), self.described)

    def __repr__(self) -> str:
        return f"<Changes: {self.summary()}>"


class SyncResults(list[Any]):
    """One ``crmtui.service.sync.SyncResult`` per kind synced."""

    def _repr_html_(self) -> str:
        headers = ["Kind", "Records", "New/changed", "Requests", "Seconds", "Mode", "Error"]
        rows = (
            [
                r.label,
                str(r.records),
                str(r.changed),
                str(r.requests),
                f"{r.seconds:.1f}",
                "incremental" if r.incremental else "full",
                r.error,
            ]
            for r in self
        )
        return table_html(headers, rows)


class Kinds(list[KindInfo]):
    def _repr_html_(self) -> str:
        rows = ([k.kind, k.label, ", ".join(k.columns), ", ".join(k.sortable)] for k in self)
        return table_html(["Kind", "Label", "Columns", "Sortable"], rows)


class Fields(list[FieldSpec]):
    def _repr_html_(self) -> str:
        rows = (
            [
                s.key,
                s.label,
                str(s.type),
                "yes" if s.writable else "",
                ", ".join(c.label for c in s.choices[:12]) + ("…" if len(s.choices) > 12 else ""),
            ]
            for s in self
        )
        return table_html(["Key", "Label", "Type", "Writable", "Choices"], rows)


class Client:
    """One profile of the service, for notebooks and scripts. Await it to connect."""

    def __init__(
        self, service: Crm, profile: str, *, cleanup: Sequence[Callable[[], None]] = ()
    ) -> None:
        if profile not in service.profile_names:
            known = ", ".join(service.profile_names)
            raise KeyError(f"no profile {profile!r}; known: {known}")
        self.service = service
        self.profile = profile
        self._cleanup = list(cleanup)
        # How ``app()`` opens the app on this profile (``python -m crmtui.serve`` options):
        # set by ``open_demo``/``open_profile``.
        self._app_args: list[str] | None = None
        self._app: AppFrame | None = None

    def __repr__(self) -> str:
        state = self.service.status(self.profile)
        status = {True: "online", False: "offline", None: "not contacted yet"}[state.online]
        return f"<crmtui.Client {self.profile} ({state.vendor_label}), {status}>"

    def __await__(self) -> Generator[Any, None, Client]:
        return self.connect().__await__()

    async def connect(self) -> Client:
        """Load the profile's kinds (from the cache when known, else from the vendor)."""
        await self.service.kinds(self.profile)
        return self

    async def __aenter__(self) -> Client:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop background sends and release the HTTP client and the cache."""
        try:
            await self.service.close()
        finally:
            for step in self._cleanup:
                step()
            self._cleanup.clear()

    # -- schema ---------------------------------------------------------------------

    async def kinds(self, *, refresh: bool = False) -> Kinds:
        return Kinds(await self.service.kinds(self.profile, refresh=refresh))

    async def kind(self, name: str) -> KindInfo:
        """A kind by key (``"company"``) or by the vendor's words (``"Accounts"``)."""
        infos = await self.service.kinds(self.profile)
        wanted = name.strip().lower()
        for info in infos:
            if wanted in (info.kind.lower(), info.label.lower(), info.singular.lower()):
                return info
        known = ", ".join(f"{i.kind} ({i.label})" for i in infos)
        raise ValueError(f"{self.profile} has no kind {name!r}; it has {known}")

    async def fields(self, kind: str, *, refresh: bool = False) -> Fields:
        info = await self.kind(kind)
        return Fields(await self.service.fields(self.profile, info.kind, refresh=refresh))

    async def _specs(self, kind: str) -> dict[str, FieldSpec]:
        return {spec.key: spec for spec in await self.service.fields(self.profile, kind)}

    def _cached_specs(self, kind: str) -> dict[str, FieldSpec]:
        return {spec.key: spec for spec in self.service.cached_fields(self.profile, kind)}

    # -- lists and search -------------------------------------------------------------

    async def records(
        self,
        kind: str,
        *,
        search: str = "",
        sort: str | None = None,
        descending: bool = False,
        limit: int = 50,
        view: str | None = None,
        filters: Mapping[str, str] | None = None,
        refresh: bool = True,
    ) -> RecordList:
        """Up to ``limit`` records of ``kind``: fetched from the vendor, read from the cache.

        ``sort`` is a field key or title/updated_at/created_at; ``filters`` match field
        values exactly; ``view`` is one of the kind's vendor views (``KindInfo.views``).
        ``refresh=False`` reads the cache only.
        """
        info = await self.kind(kind)
        specs = await self._specs(info.kind)
        view = self._view(info, view)
        self._list_keys(info, specs, sort, filters or {})
        search = _search_text(search)
        filters = {k: _filter_value(specs.get(k), v) for k, v in (filters or {}).items()}
        if limit < 1:
            raise ValueError(f"limit is how many records to show: at least 1, not {limit}")
        query = Query(
            search=search,
            sort=sort if sort in info.sortable else None,
            descending=descending,
            view=view,
            filters=dict(filters or {}),
            per_page=max(1, min(limit, MAX_PER_PAGE)),
        )
        fetched: list[Record] = []
        stale = "" if refresh else "read from the cache only"
        if refresh:
            try:
                fetched = await self._fetch(info.kind, query, limit)
            except Offline as exc:
                stale = f"offline, showing the cache: {exc}"
        if view is not None and not stale:
            records = [self.service.cached(r.ref) or r for r in fetched][:limit]
            total = None
        else:
            options: dict[str, Any] = {"search": search, "filters": dict(filters or {})}
            records = self.service.window(
                self.profile,
                info.kind,
                offset=0,
                limit=limit,
                sort=sort,
                descending=descending,
                **options,
            )
            total = self.service.count(self.profile, info.kind, **options)
        shown = f"{len(records)} of {total}" if total is not None else str(len(records))
        caption = f"{info.label}: {shown}" + (f" ({stale})" if stale else "")
        return RecordList(
            (RecordView.of(r, specs, info) for r in records),
            columns=info.columns,
            caption=caption,
            total=total,
            stale=stale,
        )

    @staticmethod
    def _view(info: KindInfo, view: str | None) -> str | None:
        """The vendor view by id or by name (``"Won Deals"``); ``ValueError`` naming the
        kind's views for any other (a view's id goes into the request path)."""
        if view is None:
            return None
        for id, name in info.views.items():
            if str(view) == id or str(view).strip().lower() == name.lower():
                return id
        known = ", ".join(f"{id} ({name})" for id, name in info.views.items()) or "none"
        raise ValueError(f"{info.label} has no view {view!r}; its views: {known}")

    @staticmethod
    def _list_keys(
        info: KindInfo, specs: Mapping[str, FieldSpec], sort: str | None, filters: Mapping[str, Any]
    ) -> None:
        """``ValueError`` for a sort or a filter on a field the kind does not have (it
        would sort by nothing, or match nothing, and look like an empty list); the sorts
        and filters the vendor's list takes (``KindInfo.sortable``, ``filters``) are kept."""
        vendors = [*info.sortable, *(f.key for f in info.filters)]
        keys = list(dict.fromkeys([*LIST_COLUMNS, *specs, *vendors]))
        for what, key in [("sort by", sort), *(("filter on", k) for k in filters)]:
            if key is not None and key not in keys:
                raise ValueError(
                    f"{info.label} cannot {what} {key!r}; its fields: {', '.join(keys)}"
                )

    async def _fetch(self, kind: str, query: Query, limit: int) -> list[Record]:
        if query.search.strip():
            return await self._fetch_search(kind, query)
        fetched: list[Record] = []
        began = self.service.store.read_mark()
        while True:
            page = await self.service.refresh(self.profile, kind, query)
            fetched += page.records
            if len(fetched) >= limit or not page.next_cursor or not page.records:
                return fetched
            if self.service.store.forgotten(self.profile, began):  # crmtui forget, meanwhile
                return fetched  # its next pages are not stored: it stays forgotten
            query = query.model_copy(update={"cursor": page.next_cursor})

    async def _fetch_search(self, kind: str, query: Query) -> list[Record]:
        """The vendor's search hits (partial hits never overwrite fuller cached records)."""
        page = await self.service.refresh(self.profile, kind, query)
        return page.records

    def search(self, text: str, *, limit: int = 50, kind: str | None = None) -> RecordList:
        """Search every cached record of this profile (works offline; no request)."""
        text = _search_text(text)
        found = self.service.search(
            text, limit=limit, profiles=[self.profile], kinds=[kind] if kind else None
        )
        specs = {k: self._cached_specs(k) for k in {r.kind for r in found}}
        return RecordList(
            (
                RecordView.of(r, specs[r.kind], self.service.kind_info(self.profile, r.kind))
                for r in found
            ),
            columns=["kind", "title", "subtitle", "updated_at"],
            caption=f"{len(found)} cached records matching {text!r}",
        )

    # -- records ----------------------------------------------------------------------

    def ref(self, record: RecordLike, id: str | None = None) -> RecordRef:
        """Which record: a Record, a RecordRef, ``(kind, id)`` or ``kind, id``."""
        if isinstance(record, Record):
            return record.ref
        if isinstance(record, RecordRef):
            return record
        if isinstance(record, tuple):
            kind, id = record
        else:
            kind = record
        if id is None:
            raise TypeError("give a record, or a kind and an id")
        return RecordRef(profile=self.profile, kind=str(kind), id=str(id))

    async def get(self, kind: RecordLike, id: str | int | None = None) -> RecordView:
        """The record from the vendor (cached for next time); the cache when offline."""
        ref = await self._record(kind, None if id is None else str(id))
        record = await self.service.get(ref)
        info = self.service.kind_info(ref.profile, ref.kind)
        return RecordView.of(record, await self._specs(ref.kind), info)

    async def _record(self, record: RecordLike, id: str | None = None) -> RecordRef:
        """``ref``, its kind by key or in the vendor's words (``ValueError`` naming the
        kinds there are), its id one that names a record: ``ValueError`` for one that
        would change which path a request asks for ("1/../2", "..", "a?b", a URL), before
        any request is made or anything queued."""
        ref = self.ref(record, id)
        info = await self.kind(ref.kind)
        if not id_shaped(ref.id):
            raise ValueError(
                f"{ref.id!r} is not a {info.singular.lower()} id (an id has no blanks, /, ?,"
                " #, %, \\ and is not . or ..); nothing was sent or queued"
            )
        return ref if info.kind == ref.kind else ref.model_copy(update={"kind": info.kind})

    async def _existing(self, ref: RecordRef) -> None:
        """``NotFound`` (nothing queued) for a record neither cached nor at the vendor: a
        delete, a note or a call on a mistyped id is refused, not sent to fail later."""
        if self.service.cached(ref) is None:
            await self.service.get(ref)

    async def _references(self, ref: RecordRef, values: Mapping[str, Any]) -> None:
        """``FieldError`` naming the field for a reference to a record the vendor does not
        have (read when it is not cached); not checked when the vendor cannot be asked."""
        info = self.service.kind_info(ref.profile, ref.kind)
        wanted = {k: t for k, t in (info.references if info else {}).items() if k in values}
        if not wanted:
            return
        typed = await self.service.validate(ref, {k: values[k] for k in wanted})
        specs = await self._specs(ref.kind)
        for key, target in wanted.items():
            kind = self.service.kind_info(ref.profile, target)
            if kind is None:
                continue
            for id in reference_ids(typed[key]):
                label = specs[key].label if key in specs else key
                if not id_shaped(id):
                    raise FieldError(f"{label}: {id!r} is not a {kind.singular.lower()} id")
                other = RecordRef(profile=ref.profile, kind=target, id=id)
                if id.startswith("local:") or self.service.cached(other) is not None:
                    continue
                try:
                    await self.service.get(other)
                except NotFound:
                    raise FieldError(
                        f"{label}: {self.service.vendor_label(ref.profile)} has no"
                        f" {kind.singular.lower()} {id}; pick one from its list"
                    ) from None
                except CrmError:
                    continue  # offline, or the vendor cannot say: the vendor judges it

    async def timeline(self, record: RecordLike, id: str | None = None) -> Timeline:
        ref = await self._record(record, id)
        title = record.title if isinstance(record, Record) else f"{ref.kind} {ref.id}"
        return Timeline(await self.service.timeline(ref), title=title)

    # -- edits ------------------------------------------------------------------------

    async def edit(self, record: RecordLike, **values: Any) -> Change | None:
        """Queue an edit of some fields (as a user would type them); None if nothing changes."""
        ref = await self._record(record)
        cached = self.service.cached(ref)
        # A list row may lack fields (ActiveCampaign's has no custom fields): the edit's
        # base must be the vendor's value, not "absent", or it looks like a conflict.
        if cached is None or cached.partial or any(k not in cached.fields for k in values):
            await self.service.get(ref)
        await self._references(ref, values)
        return await self.service.edit(ref, values)

    async def create(self, kind: str, **values: Any) -> Change:
        """Queue a new record; as the app's form, a required field left out is refused
        ("Name is required"), the owner being you when it is required and not given."""
        info = await self.kind(kind)
        specs = await self._specs(info.kind)
        owner = info.role(Role.OWNER)
        for key, spec in specs.items():
            if spec.required and (spec.writable or spec.on_create) and key not in values:
                me = await self.service.me(self.profile) if key == owner else None
                values[key] = me or ""
        await self._references(RecordRef(profile=self.profile, kind=info.kind, id="new"), values)
        return await self.service.create(self.profile, info.kind, values)

    async def delete(self, record: RecordLike) -> Change:
        ref = await self._record(record)
        await self._existing(ref)
        return await self.service.delete(ref)

    async def add_note(self, record: RecordLike, text: Any) -> Change:
        """Queue a note (text) on a record's timeline."""
        if not isinstance(text, str):
            what = "nothing" if text is None else f"a {type(text).__name__}"
            raise FieldError(f"A note is text, not {what}")
        ref = await self._record(record)
        await self._existing(ref)
        return await self.service.add_note(ref, whole_text(text))

    async def log_call(
        self,
        record: RecordLike,
        note: str = "",
        *,
        activity: str = "call",
        duration: int | str | None = None,
        follow_up: str = "",
        due: str = "",
        **choices: str,
    ) -> LoggedCall:
        """Log a call (``activity="meeting"``: a meeting) on a record, as ``L`` in the
        app: queued through the outbox, on the record's timeline at once. ``duration`` in
        minutes; ``choices`` are the vendor's own, by value or label (``outcome="No
        answer"``; Salesloft ``disposition=``, ``sentiment=``); ``follow_up`` (and ``due``)
        queue a follow-up task on the record."""
        ref = await self._record(record)
        await self._existing(ref)
        form = await self.service.calls.form(ref)
        offered = {spec.key for spec in form.specs} - {"activity", "note", "duration"}
        unknown = sorted(set(choices) - offered - {"follow_up", "follow_up_due"})
        if form.refusal is None and unknown:
            offers = ", ".join(sorted(offered - {"follow_up", "follow_up_due"})) or "none"
            raise FieldError(
                f"{form.vendor} has no call choice {', '.join(map(repr, unknown))}; its"
                f" choices: {offers}; nothing was queued"
            )
        texts: dict[str, Any] = {"activity": activity, "note": note, **choices}
        for spec in form.specs:
            named = next((c for c in spec.choices if c.label == choices.get(spec.key)), None)
            if named is not None:
                texts[spec.key] = named.value
        given = {"duration": duration, "follow_up": follow_up, "follow_up_due": due}
        texts.update({k: str(v) for k, v in given.items() if v not in (None, "")})
        return await self.service.calls.log(ref, texts)

    def app(self, *, height: int = 640) -> AppFrame:
        """The whole app in this notebook cell: keyboard, mouse, every screen, on this
        client's profile and cache file (what either fetches or queues, the other sees).

        textual-serve serves it on loopback behind a secret token, on a thread of this
        kernel; the cell shows it in a frame (``AppFrame``), each frame shown runs the
        app in a process of its own, which ends when the frame goes. ``close()`` stops
        the server. A demo's app runs the same demo data (seed and clock) on its own
        sandbox: the cache is shared, the sandbox is not.
        """
        if self._app is not None and self._app.running:
            return self._app
        store = self.service.store.path
        if self._app_args is None or store is None:
            raise ValueError(
                "app() needs a client from open_demo() or open_profile() with a cache file"
            )
        from crmtui.serve import app_command, serve_in_background

        served = serve_in_background(app_command(*self._app_args, "--store", str(store)))
        self._app = AppFrame(served, height=height)
        self._cleanup.insert(0, served.stop)  # before the demo's cache folder goes
        return self._app

    @property
    def queued(self) -> int:
        """How many edits of this profile are not confirmed by the vendor yet."""
        return self.service.queued(self.profile)

    @property
    def outbox(self) -> Changes:
        return Changes(self.service.changes(self.profile), described=self.service.describe)

    async def sync_outbox(self) -> Changes:
        """Send every queued edit now (failed ones retried); returns what is left."""
        sent = await self.service.send_now(self.profile)
        changes = self.service.changes(self.profile)
        return Changes(changes, sent=sent, described=self.service.describe)

    def _change_id(self, change: Change | str) -> str:
        """The id of ``change`` (a ``Change`` or its id), ``KeyError`` when the outbox has
        no such change: a mistyped id is said so, not taken as done."""
        if not isinstance(change, Change | str):
            raise TypeError(f"give a Change or its id (text), not a {type(change).__name__}")
        id = change if isinstance(change, str) else change.id
        if self.service.change(id) is None:
            raise KeyError(f"no change {id!r} in the outbox")
        return id

    def discard(self, change: Change | str) -> None:
        self.service.discard(self._change_id(change))

    async def bulk_edit(
        self,
        kind: str,
        records: Iterable[Record | RecordRef | str | int],
        field: str,
        value: Any,
        *,
        preview: bool = False,
    ) -> BulkPlan:
        """Set one field (by key or label) to ``value`` (as typed: a choice by label) on
        many records of ``kind``, as the app's bulk edit does: validated per record as an
        edit is, records already holding it skipped, one change per record queued in the
        outbox (each undoable). ``preview``: only the dry run (``plan.rows``,
        ``plan.summary``, ``plan.cost.text``: the requests it will send against the rate
        budget); nothing is queued. Returns the plan."""
        info = await self.kind(kind)
        specs = await self._specs(info.kind)
        wanted = field.strip().lower()
        key = next((k for k, s in specs.items() if wanted in (k.lower(), s.label.lower())), field)
        ids = [r.id if isinstance(r, Record | RecordRef) else str(r) for r in records]
        bad = [id for id in ids if not id_shaped(id)]
        if bad:
            what = f"a {info.singular.lower()} id" if len(bad) == 1 else f"{info.label.lower()} ids"
            raise ValueError(
                f"{', '.join(map(repr, bad[:5]))} {'is' if len(bad) == 1 else 'are'} not"
                f" {what}; nothing was sent or queued"
            )
        plan = await self.service.bulk.plan(self.profile, info.kind, ids, key, value)
        if not preview:
            await self.service.bulk.apply(plan)
        return plan

    async def undo(self, change: Change | str, *, preview: bool = False) -> UndoPlan:
        """Undo a change: one still queued is withdrawn; a sent one is taken back by its
        compensating edit (old values back; a created record deleted where the vendor
        allows), queued in the outbox, which sends it only if the vendor still has what
        was sent (else a conflict, nothing overwritten). ``preview``: only say what it
        would do (``plan.lines``). Returns the plan; ``CannotUndo`` says why not."""
        if not isinstance(change, Change | str):
            raise TypeError(f"give a Change or its id (text), not a {type(change).__name__}")
        plan = await self.service.undo.plan(change if isinstance(change, str) else change.id)
        if not preview:
            self.service.undo.apply(plan)
        return plan

    def retry(self, change: Change | str) -> None:
        """Send a change again now; for an ``uncertain`` one: "send again" (you checked that
        it did not arrive). ``ChangeBusy`` says why not for a done change or one being sent."""
        self.service.retry(self._change_id(change))

    def mark_arrived(self, change: Change | str) -> None:
        """An ``uncertain`` change you saw in the CRM: done, never sent again."""
        self.service.mark_arrived(self._change_id(change))

    def resolve(self, change: Change | str, **choices: str) -> None:
        """Settle a conflict field by field: ``resolve(change, amount="mine", stage="theirs")``."""
        id = self._change_id(change)
        found = self.service.change(id)
        if found is None or found.state is not ChangeState.CONFLICT:
            state = found.state if found else "gone"
            raise ValueError(f"change {id!r} is not in conflict (it is {state}): nothing to settle")
        fields = list(found.values) or list(found.theirs)
        said = {key: str(word).strip().lower() for key, word in choices.items()}
        for key, word in said.items():
            if key not in fields and found.op is ChangeOp.UPDATE:
                raise ValueError(
                    f"change {id!r} does not change {key!r}; it changes {', '.join(fields)}"
                )
            if word not in ("mine", "theirs"):
                raise ValueError(f"{key}: {choices[key]!r} is not a choice; say mine or theirs")
        self.service.resolve(id, said)

    # -- sync -------------------------------------------------------------------------

    async def sync(self, *kinds: str, progress: Callable[[Any], Any] | None = None) -> SyncResults:
        """Bring whole kinds (default: all) into the cache, incrementally after the first time.

        Paced within the vendor's rate budget; ``progress`` gets a ``SyncProgress`` after
        each page (``print(p.bar())`` shows a bar). ``search`` then finds everything.
        """
        results = await self.service.sync(self.profile, list(kinds) or None, progress)
        return SyncResults(results)


def _filter_value(spec: FieldSpec | None, value: Any) -> Any:
    """A filter's value as the cache holds it: a choice by its value or its label, as an
    edit takes it (``FieldError`` naming the choices for any other: it would match
    nothing); other values as given (text made whole)."""
    if not isinstance(value, str):
        return value
    value = whole_text(value)
    if spec and spec.type in (FieldType.CHOICE, FieldType.USER) and spec.choices and value.strip():
        return validate(spec, value)
    return value


def _search_text(text: str | None) -> str:
    """What to search for: None is nothing, a lone surrogate U+FFFD (``whole_text``)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise TypeError(f"search for text, not a {type(text).__name__}")
    return whole_text(text)


def _cache_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` raising ``CacheUnusable`` (one line: the file, what to do, the queued edits
    in it) where the cache's SQLite failed while in use (a page found corrupt)."""

    def unusable(client: Client, exc: sqlite3.Error) -> BaseException:
        return client.service.unusable(exc) or exc

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(self: Client, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise unusable(self, exc) from None

        return run_async

    @functools.wraps(method)
    def run(self: Client, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise unusable(self, exc) from None

    return run


for _name, _method in list(vars(Client).items()):
    if not _name.startswith("_") and inspect.isfunction(_method):
        setattr(Client, _name, _cache_errors(_method))


class AppFrame:
    """The app served for a notebook (``Client.app()``): shown, a frame in the cell's
    output; ``link`` opens it in a browser tab too (it holds the session's token)."""

    def __init__(self, served: Any, *, height: int) -> None:
        self._served = served  # crmtui.serve.Background
        self.height = height

    @property
    def link(self) -> str:
        return str(self._served.link)

    @property
    def running(self) -> bool:
        return bool(self._served.running)

    def stop(self) -> None:
        """Stop serving: an app shown now is told to quit, and ended (terminated, then
        killed, with what it started) if it has not within a few seconds."""
        self._served.stop()

    def _repr_html_(self) -> str:
        if not self.running:
            return "<p>The crmtui app has stopped: call <code>app()</code> again.</p>"
        return (
            f'<iframe src="{html.escape(self.link)}" width="100%" height="{int(self.height)}"'
            ' style="border: 0" allow="clipboard-read; clipboard-write"></iframe>'
        )

    def __repr__(self) -> str:  # no token: a text output may be shared
        state = "served on " + self._served.server.public_url if self.running else "stopped"
        return f"<crmtui app, {state}>"


# -- opening --------------------------------------------------------------------------


def open_demo(
    vendor: str = "freshsales",
    *,
    seed: int = 0,
    now: datetime | None = None,
    store_path: str | Path | None = None,
    http: Http | None = None,
) -> Client:
    """A client over one vendor's in-process sandbox (no account, no network).

    The cache is a fresh temporary file unless ``store_path`` is given.
    """
    now = now or utcnow()  # the app (``Client.app``) makes the same data with it
    demos = demo_profiles(seed=seed, now=now, vendors=[vendor])
    if not demos:
        raise ValueError(f"no demo sandbox named {vendor!r}")
    cleanup: list[Callable[[], None]] = []
    if store_path is None:
        folder = tempfile.mkdtemp(prefix="crmtui-demo-")
        store_path = Path(folder) / "cache.sqlite3"
        cleanup.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    http = http or Http()
    profiles = mount(http, demos)
    service = open_crm(profiles, store=store_path, http=http)
    client = Client(service, profiles[0].name, cleanup=cleanup)
    vendor_name = demos[0].profile.vendor
    client._app_args = ["--demo", vendor_name, "--seed", str(seed), "--now", now.isoformat()]
    return client


def open_profile(
    name: str,
    *,
    config_path: str | Path | None = None,
    store_path: str | Path | None = None,
    http: Http | None = None,
) -> Client:
    """A client for the profile ``name`` of config.toml (secrets from env or keyring).

    Raises ``ConfigError`` (one line per problem of the config) or ``CacheUnusable``
    (the cache file is damaged, too new or cannot be written: which file, what to do).
    A config file readable by others gives a ``UserWarning``.
    """
    config = Config.load(Path(config_path) if config_path else None)
    config.warn()
    use_timezone(config.timezone)  # times typed as text are read in it, as in the app
    entry = config.profiles.get(name)
    if entry is None:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(f"{config.path}: no profile {name!r} (profiles: {known})")
    profile = entry.resolve()
    service = open_crm([profile], store=store_path or locations.cache_db(), http=http)
    client = Client(service, profile.name)
    client._app_args = ["--profile", profile.name, "--config", str(config.path)]
    return client
