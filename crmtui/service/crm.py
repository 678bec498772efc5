"""The service: one object the UI and notebooks share for browse, search, edit and sync.

Reads are stale-while-revalidate: the cache answers at once, the network refreshes it
and listeners hear ``ListChanged``/``RecordChanged``. Every edit is validated against the
field specs, written to the outbox with the optimistic record in one transaction, and
sent by ``Outbox`` (``crmtui.service.outbox``) when the vendor can be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from crmtui import vendors
from crmtui.fields import (
    NO_CURRENCY,
    FieldError,
    check_reference,
    money_text,
    same_value,
    validate,
)
from crmtui.http import (
    AuthError,
    BadResponse,
    CrmError,
    Http,
    NotFound,
    Offline,
    PermissionDenied,
    RateBudget,
    Rejected,
    WriteTrace,
)
from crmtui.http.log import LogEntry
from crmtui.model import (
    Activity,
    ActivityType,
    Change,
    ChangeOp,
    ChangeState,
    FieldSpec,
    FieldType,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
    Role,
    utcnow,
)
from crmtui.service.bulk import Bulk
from crmtui.service.calls import LOG_KIND, Calls, log_target
from crmtui.service.events import (
    Event,
    ListChanged,
    Listener,
    Notice,
    RecordChanged,
    Severity,
    StatusChanged,
)
from crmtui.service.outbox import NOTE_KIND, Outbox, note_target
from crmtui.service.ports import Ports
from crmtui.service.references import References, reference_ids
from crmtui.service.sync import PER_PAGE, Sync, SyncResult, choose_kinds
from crmtui.service.undo import Undo
from crmtui.store import CacheUnusable, CacheWriteError, RecordPreview, Store
from crmtui.store.outbox import Discarded
from crmtui.store.records import timeline_key
from crmtui.vendors.base import Profile, Vendor

T = TypeVar("T")

# A list this long gets its sort and filter indexes built ahead of the user; below it a
# lazily built index costs a few tens of milliseconds at most.
PREPARE_ROWS = 10_000


class UnexpectedReply(BadResponse):
    """The adapter could not map what the vendor sent (or has a bug): not retried by
    itself, since the same reply would fail the same way; the edit waits in the outbox."""

    retryable = False


@dataclass
class ProfileState:
    """What the home screen shows of a profile."""

    profile: Profile
    adapter: Vendor | None = None
    online: bool | None = None
    message: str = ""
    kinds: list[KindInfo] = field(default_factory=list)
    # The vendor refused the profile's credentials (a 401; a 403 to the sign-in check):
    # it answers (``online``), yet nothing can be read or sent until they are fixed.
    auth_failed: bool = False
    accepted: int = 0  # replies (2xx) to this profile's requests: the vendor took them

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def vendor_label(self) -> str:
        return self.adapter.label if self.adapter else self.profile.vendor


ProfileReach = Literal["not checked", "online", "offline", "sign-in failed"]


@dataclass(frozen=True)
class ProfileStatus:
    """Whether a profile answers (the status line; no query of the cache)."""

    name: str
    vendor_label: str
    online: bool | None  # None: not contacted yet
    message: str  # why it is offline or refused ("" when fine)
    auth_failed: bool = field(default=False, kw_only=True)  # its credentials were refused

    @property
    def state(self) -> ProfileReach:
        """One word for what the screens show: ``sign-in failed`` wins over online."""
        if self.auth_failed:
            return "sign-in failed"
        if self.online is None:
            return "not checked"
        return "online" if self.online else "offline"


@dataclass(frozen=True)
class ProfileSummary(ProfileStatus):
    """One profile as the home screen and a notebook show it."""

    cached: int  # records in the cache
    last_synced: datetime | None
    queued: int  # edits not confirmed by the vendor yet


@dataclass(frozen=True)
class Budget:
    """Where a profile stands in its vendor's rate budget (the status line)."""

    budget: RateBudget  # the budget requests keep to now (a sync's steady one while it runs)
    remaining: float  # requests that may go at once
    capacity: float
    wait: float  # seconds the next request waits (after a 429, the vendor's Retry-After)


class Crm:
    """Browse, search and edit every profile through one cache and one HTTP client.

    Get one with ``open_crm``: it owns the HTTP client and the cache and closes them
    (``close``, or the end of ``async with``). A ``Crm`` built directly leaves them to
    whoever made them.
    """

    prepare_rows = PREPARE_ROWS  # lists this long get their indexes ahead (``prepare``)

    def __init__(
        self, store: Store, http: Http, profiles: Iterable[Profile], *, owned: bool = False
    ) -> None:
        self.store = store
        self.http = http
        self._owned = owned  # close() closes the HTTP client and the cache too
        self._closed = False
        self.states: dict[str, ProfileState] = {}
        self._listeners: list[Listener] = []
        self._fields: dict[tuple[str, str], list[FieldSpec]] = {}
        self._me: dict[str, str | None] = {}  # profile -> the signed-in user's id (``me``)
        self._preparing: dict[tuple[str, str], asyncio.Future[int]] = {}
        self._discarded: list[list[Discarded]] = []  # undo of discards, newest last
        self.undo = Undo(self)  # u and U: withdraw a queued change, take back a sent one
        self.calls = Calls(self)  # L: log a call or meeting on a record
        self.bulk = Bulk(self)  # one field set on many records, previewed first
        self.references = References(store, self.kind_info)  # ids shown by name
        for profile in profiles:
            state = ProfileState(profile)
            try:
                state.adapter = vendors.load(profile.vendor)(profile, http)
            except Exception as exc:  # a broken profile must not stop the others
                state.online = False
                state.message = str(exc)
            self.states[profile.name] = state
        self.ports = Ports(
            store=store,
            adapter=self.adapter,
            call=self.call,
            emit=self.emit,
            online=lambda name: self.states[name].online,
            redact=http.redact,
        )
        self.outbox = Outbox(self.ports)
        self._stop_hearing = self.watch_requests(self._heard)

    def _heard(self, entry: LogEntry) -> None:
        """Count the replies that prove the vendor took a profile's credentials (2xx):
        a call that made no request (a vendor's kinds are fixed) proves nothing."""
        state = self.states.get(entry.profile)
        if state is not None and entry.status is not None and 200 <= entry.status < 300:
            state.accepted += 1

    # -- events -------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- profiles -----------------------------------------------------------------

    def adapter(self, profile: str) -> Vendor:
        state = self.states[profile]
        if state.adapter is None:
            raise CrmError(profile, state.message or "this profile could not be opened")
        return state.adapter

    async def call(self, profile: str, work: Awaitable[T]) -> T:
        """Run an adapter call, tracking whether the profile is online."""
        state = self.states[profile]
        accepted = state.accepted
        trace = WriteTrace()  # an error after a write of this call reached the vendor
        try:  # ...is marked maybe_applied (the outbox checks before sending again)
            with trace:
                result = await work
        except Offline as exc:
            self._set_status(state, False, str(self.http.scrub(exc)))
            raise
        except AuthError as exc:  # a 401: the vendor answers and refuses the credentials
            self._set_status(state, True, str(self.http.scrub(exc)), auth_failed=True)
            raise
        except CrmError as exc:  # its text may quote a reply: redacted here, for all
            self.http.scrub(exc)
            self._set_status(state, True, state.message, auth_failed=state.auth_failed)
            raise
        except Exception as exc:  # an adapter bug or an unexpected reply: never a traceback
            detail = self.http.redact(f"{type(exc).__name__}: {exc}")[:200]  # redact, then cut
            raise UnexpectedReply(  # its cause only when no secret is in it (tracebacks)
                state.vendor_label,
                f"unexpected problem ({detail})",
                hint="Try again; if it persists, the request log (ctrl+l) shows what was sent.",
                maybe_applied=trace.maybe_applied,
            ) from (exc if self.http.clean(exc) else None)
        if state.accepted == accepted:  # no reply came (nothing was asked): as it was
            return result
        was_offline = state.online is False or state.auth_failed
        self._set_status(state, True, "")
        if was_offline:
            self.outbox.wake(profile)
        return result

    def _set_status(
        self, state: ProfileState, online: bool, message: str, *, auth_failed: bool = False
    ) -> None:
        if (state.online, state.message, state.auth_failed) != (online, message, auth_failed):
            state.online = online
            state.message = message
            state.auth_failed = auth_failed
            self.emit(StatusChanged(state.name, online, message, auth_failed))

    async def check(self, profile: str) -> ProfileStatus:
        """Reach the vendor with the profile's credentials: its kinds, and when they took
        no request (some vendors' kinds are fixed), one row of its first list, so the
        status says whether the vendor answers *and* accepts them. A 401 anywhere, or a
        403 to this read of the profile's own list (ActiveCampaign answers a bad key with
        403), is ``sign-in failed``. ``CrmError`` when it fails; the status says why."""
        state = self.states[profile]
        accepted = state.accepted
        try:
            kinds = await self.kinds(profile, refresh=True)
            if state.accepted == accepted and kinds and not state.auth_failed:
                probe = self.adapter(profile).list_page(kinds[0].kind, Query(per_page=1))
                await self.call(profile, probe)
        except PermissionDenied as exc:
            refused = AuthError(exc.vendor, exc.message, status=exc.status)
            self._set_status(state, True, str(refused), auth_failed=True)
            raise refused from None
        return self.status(profile)

    # -- schema -------------------------------------------------------------------

    async def kinds(self, profile: str, *, refresh: bool = False) -> list[KindInfo]:
        """The profile's kinds: from the cache when known, else from the vendor."""
        state = self.states[profile]
        cached = None if refresh else self.store.get_kinds(profile)
        # kinds cached before they declared roles (an older crmtui): asked again, so the
        # board, colours and My day find their fields; kept when the vendor is unreachable
        if cached and any(info.roles for info in cached):
            state.kinds = cached
            return cached
        left = self.store.read_mark()  # a profile forgotten meanwhile keeps no kinds
        try:
            kinds = await self.call(profile, self.adapter(profile).kinds())
        except CrmError:
            if fallback := cached or self.store.get_kinds(profile):
                return fallback
            raise
        with contextlib.suppress(CacheWriteError):  # a read-only cache: known for this run
            self.store.put_kinds(profile, kinds, left_at=left)
        state.kinds = kinds
        return kinds

    async def fields(self, profile: str, kind: str, *, refresh: bool = False) -> list[FieldSpec]:
        key = (profile, kind)
        if not refresh and key in self._fields:
            return self._fields[key]
        cached = None if refresh else self.store.get_fields(profile, kind)
        if cached is None:
            left = self.store.read_mark()  # a profile forgotten meanwhile keeps no fields
            try:
                adapter = self.adapter(profile)
                cached = await self.call(profile, adapter.fields(kind, refresh=refresh))
            except CrmError:
                cached = self.store.get_fields(profile, kind)
                if cached is None:
                    raise
            else:
                with contextlib.suppress(CacheWriteError):  # a read-only cache: kept in memory
                    self.store.put_fields(profile, kind, cached, left_at=left)
        self._fields[key] = cached
        return cached

    async def me(self, profile: str) -> str | None:
        """The id of the user ``profile`` signs in as (as ``Role.OWNER`` values hold users),
        asked of the vendor once per run; None when the vendor does not say, or cannot
        be asked now (not remembered: asked again next time)."""
        if profile not in self._me:
            try:
                self._me[profile] = await self.call(profile, self.adapter(profile).whoami())
            except CrmError:
                return None
        return self._me[profile]

    def cached_me(self, profile: str) -> str | None:
        """``me`` when already asked this run, without a request (None otherwise)."""
        return self._me.get(profile)

    def knows_me(self, profile: str) -> bool:
        """Whether ``me`` has had the vendor's answer this run (which may be None)."""
        return profile in self._me

    def cached_kinds(self, profile: str) -> list[KindInfo]:
        """The kinds known without a request ([] when never fetched)."""
        state = self.states[profile]
        if not state.kinds:
            state.kinds = self.store.get_kinds(profile) or []
        return state.kinds

    def kind_info(self, profile: str, kind: str) -> KindInfo | None:
        """A kind's ``KindInfo`` (its roles, views...) when known without a request."""
        return next((info for info in self.cached_kinds(profile) if info.kind == kind), None)

    def cached_fields(self, profile: str, kind: str) -> list[FieldSpec]:
        """The specs known without a request ([] when never fetched)."""
        key = (profile, kind)
        if key not in self._fields:
            cached = self.store.get_fields(profile, kind)
            if cached is None:
                return []
            self._fields[key] = cached
        return self._fields[key]

    # -- lists ----------------------------------------------------------------------

    def count(self, profile: str, kind: str, **options: Any) -> int:
        return self.store.count(profile, kind, **options)

    def window(self, profile: str, kind: str, **options: Any) -> list[Record]:
        """A window of a list, its reference fields by name (``Record.names``)."""
        records = self.store.window(profile, kind, **options)
        self.references.annotate(records)
        return records

    async def refresh(self, profile: str, kind: str, query: Query | None = None) -> Page:
        """Fetch one page from the vendor into the cache; listeners re-read their window."""
        left = self.store.read_mark()  # an edit confirmed meanwhile is not undone by it
        page = await self.call(profile, self.adapter(profile).list_page(kind, query or Query()))
        # In a thread: a page holding a record with a 20 MB field takes seconds to store,
        # and the screens go on meanwhile (the store locks and orders its own writes).
        await asyncio.to_thread(self._absorb, page.records, left)
        self.emit(ListChanged(profile, kind))
        return page

    def _absorb(self, records: list[Record], left: int) -> None:
        """Store a page read from the vendor (``left``: the store's ``read_mark`` when it
        was asked for): a partial record (a search hit) only adds what the cache does not
        know yet. The page's references are then named (``Record.names``): a view or a
        search shows its rows as read."""
        fresh = [r for r in records if not r.partial or self.store.get_record(r.ref) is None]
        self.store.upsert_records(fresh, synced_at=utcnow(), left_at=left)
        self.references.annotate(records)

    async def sync(
        self,
        profile: str,
        kinds: list[str] | None = None,
        progress: Callable[[Any], Any] | None = None,
        *,
        per_page: int | None = None,
    ) -> list[SyncResult]:
        """Pull whole kinds (named by key or label; default: all) into the cache:
        incremental, resumable, within the rate budget.

        ``progress`` gets a ``crmtui.service.sync.SyncProgress`` before the first page
        (with the ``SyncPlan``) and after each page; returns one ``SyncResult`` a kind.
        """
        chosen = choose_kinds(profile, await self.kinds(profile), kinds)
        sync = Sync(self.ports, per_page=per_page or PER_PAGE)
        results = await sync.run(profile, chosen, progress)
        infos = {info.kind: info for info in self.states[profile].kinds}
        for result in results:
            if not result.error and result.kind in infos:
                self.prepare(profile, infos[result.kind])
        return results

    def prepare(self, profile: str, info: KindInfo) -> asyncio.Future[int] | None:
        """Build the indexes a list of ``info`` sorts and filters by, in a thread, when it
        holds ``prepare_rows`` records or more.

        The first sort or filter by a field then costs what the next ones do instead of
        seconds. The build uses its own connection, so the list reads on meanwhile.
        Returns the running build (how many indexes it built), or None: nothing to do.
        """
        running = self._preparing.get((profile, info.kind))
        if running is not None and not running.done():
            return running
        if self.store.count(profile, info.kind) < self.prepare_rows:
            return None
        wanted = self.store.list_indexes(profile, info)
        if not wanted:
            return None
        build = asyncio.ensure_future(asyncio.to_thread(self.store.build_indexes, wanted))
        build.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._preparing[(profile, info.kind)] = build
        return build

    @property
    def preparing(self) -> bool:
        """Whether an index build (``prepare``) is under way."""
        return any(not build.done() for build in self._preparing.values())

    async def prepared(self) -> None:
        """Wait for the index builds under way (e.g. before a command-line sync exits)."""
        await asyncio.gather(*self._preparing.values(), return_exceptions=True)

    def search(
        self,
        text: str,
        *,
        limit: int = 50,
        profiles: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> list[Record]:
        """Search every cached record of every profile (works offline); reference
        fields by name (``Record.names``)."""
        records = self.store.search(text, limit=limit, profiles=profiles, kinds=kinds)
        self.references.annotate(records)
        return records

    # -- records --------------------------------------------------------------------

    def cached(self, ref: RecordRef) -> Record | None:
        return self._named(self.store.get_record(ref))

    def _named(self, record: Record | None) -> Record | None:
        """``record`` with its reference fields by name (``Record.names``)."""
        if record is not None:
            self.references.annotate([record])
        return record

    def _named_preview(self, found: RecordPreview | None) -> RecordPreview | None:
        if found is not None:
            self.references.annotate([found.record])
        return found

    async def cached_async(self, ref: RecordRef) -> Record | None:
        """``cached``, read in a thread: a record with a 20 MB field takes a while to read
        and decode, and the event loop (the screens) goes on meanwhile."""
        return await asyncio.to_thread(self.cached, ref)

    async def cached_timeline_async(self, ref: RecordRef) -> list[Activity] | None:
        """``cached_timeline``, read in a thread (a 20 MB note takes a while to decode)."""
        return await asyncio.to_thread(self.store.get_timeline, ref)

    async def cached_preview_async(self, ref: RecordRef) -> RecordPreview | None:
        """The cached record as the record screen shows it, read in a thread: its long
        values cut, with their whole lengths (``cached_field_async`` reads one whole)."""
        return await asyncio.to_thread(self._preview, ref)

    def _preview(self, ref: RecordRef) -> RecordPreview | None:
        return self._named_preview(self.store.get_record_preview(ref))

    async def cached_field_async(self, ref: RecordRef, key: str) -> Any:
        """One cached field's whole value (queued edits applied), read in a thread."""
        return await asyncio.to_thread(self.store.get_field, ref, key)

    async def get(self, ref: RecordRef) -> Record:
        """The record from the vendor (cached for next time); the cache when offline."""
        return await self._get(ref, self.cached, lambda record: self._named(record) or record)

    async def get_preview(self, ref: RecordRef) -> RecordPreview:
        """``get``, the record read back as ``cached_preview_async`` reads it: a record
        with a 20 MB field is stored whole, and the screen gets its first characters."""
        return await self._get(ref, self._preview, lambda r: RecordPreview(self._named(r) or r, {}))

    async def _get(
        self, ref: RecordRef, read: Callable[[RecordRef], T | None], fetched: Callable[[Record], T]
    ) -> T:
        """``get``: the record ``read`` from the cache once the vendor's is stored
        (``fetched``: the vendor's own, when the cache has none to show). ``NotFound``
        as for the vendor's 404 when a delete of it was confirmed while it was read."""
        if ref.id.startswith("local:"):
            found = await asyncio.to_thread(read, ref)
            if found is None:
                raise CrmError(ref.profile, "this record is not created yet")
            return found
        left = self.store.read_mark()  # an edit confirmed meanwhile is not undone by it
        try:
            record = await self.call(ref.profile, self.adapter(ref.profile).get(ref.kind, ref.id))
        except Offline:
            cached = await asyncio.to_thread(read, ref)
            if cached is None:
                raise
            return cached
        # In a thread: a record with a 20 MB field takes a while to store and to read
        # back, and the event loop goes on meanwhile (the store locks its connection).
        written = await asyncio.to_thread(
            self.store.upsert_records, [record], synced_at=utcnow(), left_at=left
        )
        stored = await asyncio.to_thread(read, ref)
        self.emit(RecordChanged(ref))
        if stored is None and not written:  # a change of it was confirmed since it was read
            # hidden by a queued delete: the vendor's version as confirmed, as for any other
            kept = await asyncio.to_thread(self.store.server_version, ref)
            if kept is None:  # a delete of it was confirmed
                label = self.adapter(ref.profile).label
                raise NotFound(
                    label, "this record was deleted (your delete was confirmed)", hint=""
                )
            record = kept
        return stored if stored is not None else fetched(record)

    def cached_timeline(self, ref: RecordRef) -> list[Activity] | None:
        """The cached timeline, read on the caller's thread (``cached_timeline_async`` for
        a screen: a 20 MB note takes a while to read and decode)."""
        return self.store.get_timeline(ref)

    async def timeline(self, ref: RecordRef) -> list[Activity]:
        """The record's timeline from the vendor (cached for next time); the cache when
        offline. The cache is read and written in a thread: a timeline holding a 20 MB
        note takes a second or more to store, and the screens go on meanwhile."""
        if ref.id.startswith("local:"):
            return await self.cached_timeline_async(ref) or []
        again = True  # a read that left before a note was confirmed is made once more
        while True:
            left = self.store.read_mark()  # a note confirmed meanwhile is not dropped by it
            try:
                activities = await self.call(
                    ref.profile, self.adapter(ref.profile).timeline(ref.kind, ref.id)
                )
            except Offline:
                cached = await self.cached_timeline_async(ref)
                if cached is None:
                    raise
                return cached
            merged = await asyncio.to_thread(self._merge_timeline, ref, activities, left, again)
            if merged is not None:
                return merged
            again = False

    def _merge_timeline(
        self, ref: RecordRef, activities: list[Activity], left: int, again: bool = False
    ) -> list[Activity] | None:
        """Store the vendor's timeline with the entries it does not have yet (queued
        notes, entries kept), newest first; returns what is stored. A read that left
        (``left``: the store's ``read_mark``) before a note or a logged call on the record
        was confirmed is not stored: None when it is to be read ``again`` (the cached
        timeline may hold only that note: the record's first read), else the cached
        timeline, which holds it."""
        with self.store.storing_read(timeline_key(ref), left) as stale:
            if stale and self.store.forgotten(ref.profile, left):  # by crmtui forget
                return activities  # shown as read, not stored: the profile stays forgotten
            cached = self.store.get_timeline(ref)
            if stale and cached is not None:
                return None if again else cached
            fresh = {a.id for a in activities}
            pending = [
                a
                for a in cached or []
                if (a.id.startswith("local:") and self._still_queued(a.id.removeprefix("local:")))
                or (a.kept and a.id not in fresh)
            ]
            activities = sorted(pending + activities, key=lambda a: a.occurred_at, reverse=True)
            self.store.put_timeline(ref, activities)
        return activities

    def _still_queued(self, change_id: str) -> bool:
        change = self.store.get_change(change_id)
        return change is not None and change.state is not ChangeState.DONE

    # -- edits ------------------------------------------------------------------------

    async def validate(self, ref: RecordRef, texts: dict[str, Any]) -> dict[str, Any]:
        """Typed values for what the user typed, or ``FieldError`` naming the field."""
        specs = {spec.key: spec for spec in await self.fields(ref.profile, ref.kind)}
        values: dict[str, Any] = {}
        record = self.store.get_record(ref)
        fields = record.fields if record else {}
        if self.kind_info(ref.profile, ref.kind) is None:  # its roles: known once asked
            with contextlib.suppress(CrmError):
                await self.kinds(ref.profile)
        info = self.kind_info(ref.profile, ref.kind)
        money = info.role(Role.CURRENCY) if info else None  # the key of the currency
        pipe = info.role(Role.PIPELINE) if info else None  # the key of the pipeline
        currency = fields.get(money) if money else None
        # the currency and pipeline first: money is checked against the currency it will
        # have, a stage against the pipeline it will be in
        first = {key: n for n, key in enumerate((money, pipe)) if key}
        for key, text in sorted(texts.items(), key=lambda item: first.get(item[0], 2)):
            spec = specs.get(key)
            creating = ref.id == "new"  # ``create`` validates under this placeholder id
            if spec is None or not (spec.writable or (creating and spec.on_create)):
                label = spec.label if spec else key
                raise FieldError(f"{label} cannot be changed in {self.adapter(ref.profile).label}")
            pipeline = values.get(pipe, fields.get(pipe)) if pipe else None
            group = None
            if pipeline not in (None, ""):  # a pipeline by id and by name, as choices name it
                pipeline_spec = specs.get(pipe) if pipe else None
                named = pipeline_spec.choice_label(pipeline) if pipeline_spec else None
                group = {str(pipeline), *([named] if named else [])}
            new_currency = values.get(money) if money else None
            shown = new_currency or currency
            if info is not None and money is None:  # the kind keeps amounts without one
                shown = NO_CURRENCY
            groups = specs.get(pipe) if pipe else None  # names the pipelines a refusal cites
            values[key] = validate(spec, text, currency=shown, group=group, groups=groups)
            target = info.references.get(key) if info else None
            if target and isinstance(values[key], str | list):  # record ids, not free text
                cached = self.store.window(ref.profile, target, offset=0, limit=20)
                known = [r.id for r in cached if not r.id.startswith("local:")]
                held = reference_ids(fields.get(key))  # one, or several (a list of them)
                for id in reference_ids(values[key]):
                    check_reference(spec.label, id, [*known, *held])
        if money and values.get(money) and not same_value(values[money], currency):
            # a new currency alone: the amounts kept must fit it (1250.75 cannot be JPY)
            for spec in specs.values():
                amount = fields.get(spec.key)
                if (
                    spec.type is FieldType.MONEY
                    and spec.writable
                    and spec.key not in texts
                    and amount
                ):
                    try:
                        validate(spec, str(amount), currency=values[money])
                    except FieldError as exc:
                        raise FieldError(
                            f"{exc} — change {spec.label} in the same edit as the currency"
                        ) from None
        return {key: values[key] for key in texts}

    async def edit(
        self, ref: RecordRef, texts: dict[str, Any], *, batch: str | None = None
    ) -> Change | None:
        """Queue an edit (validated first). None when nothing actually changes. ``batch``:
        the bulk edit it is part of (``Change.batch``)."""
        values = await self.validate(ref, texts)
        record = self.store.get_record(ref)
        if record is None:
            raise CrmError(ref.profile, "this record is not in the cache; open it first")
        values = {k: v for k, v in values.items() if not same_value(record.fields.get(k), v)}
        if not values:
            return None
        change = Change(
            ref=ref,
            values=values,
            base={key: record.fields.get(key) for key in values},
            base_updated_at=record.updated_at,
            batch=batch,
        )
        return self._enqueue(change, entry=(ref, self._queued_entry(change)))

    def queue(
        self,
        change: Change,
        *,
        what: str,
        summary_prefix: str = "",
        shown: tuple[RecordRef, Activity] | None = None,
    ) -> Change:
        """Queue a change built elsewhere in the service (an undo's compensating edit or
        delete, a logged call) as ``edit``/``delete`` would: an update shows at once in its
        record's timeline as queued, with ``summary_prefix`` before its description; any
        other change with its timeline entry (``shown``: record, entry) when given."""
        if change.op is not ChangeOp.UPDATE:
            timeline_of = shown[0] if shown is not None else None
            return self._enqueue(change, timeline_of, entry=shown, what=what)
        entry = self._queued_entry(change)
        entry = entry.model_copy(update={"summary": f"{summary_prefix}{entry.summary}"})
        return self._enqueue(change, entry=(change.ref, entry), what=what)

    def _queued_entry(self, change: Change) -> Activity:
        """The edit as a timeline entry, shown until the vendor's own timeline has it."""
        specs = {s.key: s for s in self.cached_fields(change.ref.profile, change.ref.kind)}
        info = self.kind_info(change.ref.profile, change.ref.kind)
        stage = info.role(Role.STAGE) if info else None
        stage_spec = specs.get(stage) if stage in change.values else None
        moved = stage_spec is not None and stage_spec.type is FieldType.CHOICE
        return Activity(
            id=f"local:{change.id}",
            type=ActivityType.STAGE_CHANGE if moved else ActivityType.OTHER,
            occurred_at=change.created_at,
            summary=self.describe(change),
            who="you (queued)",
        )

    async def create(self, profile: str, kind: str, texts: dict[str, Any]) -> Change:
        self._offered(profile, kind, ChangeOp.CREATE)
        ref = RecordRef(profile=profile, kind=kind, id="new")
        values = await self.validate(ref, texts)
        await self._create_needs(profile, kind, values)
        change = Change(ref=ref, op=ChangeOp.CREATE, values=values)
        change = change.model_copy(
            update={"ref": RecordRef(profile=profile, kind=kind, id=f"local:{change.id}")}
        )
        return self._enqueue(change, what=f"the new {kind}")

    async def _create_needs(self, profile: str, kind: str, values: dict[str, Any]) -> None:
        """Refuse, before anything is queued, a create missing every field of one of the
        kind's ``create_needs`` groups (the vendor would refuse it when sent)."""
        info = self.kind_info(profile, kind)
        if info is None:
            return
        labels = {spec.key: spec.label for spec in await self.fields(profile, kind)}
        for group in info.create_needs:
            if not any(values.get(key) not in (None, "", []) for key in group):
                named = [labels.get(key, key) for key in group]
                either = ", ".join(named[:-1]) + f" or {named[-1]}" if len(named) > 1 else named[0]
                raise FieldError(
                    f"A new {info.singular.lower()} needs {either}; nothing was queued"
                )

    async def delete(self, ref: RecordRef) -> Change:
        self._offered(ref.profile, ref.kind, ChangeOp.DELETE)
        return self._enqueue(Change(ref=ref, op=ChangeOp.DELETE), what="the delete")

    def _offered(self, profile: str, kind: str, op: ChangeOp) -> None:
        """Refuse, before anything is queued, a create or delete the kind says its vendor
        does not offer (``KindInfo.creatable`` / ``deletable``)."""
        info = self.kind_info(profile, kind)
        if info is None or (info.creatable if op is ChangeOp.CREATE else info.deletable):
            return
        what = "create" if op is ChangeOp.CREATE else "delete"
        raise CrmError(
            self.vendor_label(profile),
            f"{self.vendor_label(profile)} offers no way to {what} {info.label.lower()};"
            " nothing was queued",
        )

    async def add_note(self, ref: RecordRef, text: str) -> Change:
        """Queue a note on a record's timeline; it shows at once, marked as queued."""
        text = text.strip()
        if not text:
            raise FieldError("A note needs some text")
        why = self.note_refusal(ref)
        if why is not None:
            raise Rejected(self.vendor_label(ref.profile), f"{why}; nothing was queued", hint="")
        change = Change(
            ref=RecordRef(profile=ref.profile, kind=NOTE_KIND, id="new"),
            op=ChangeOp.CREATE,
            values={"text": text, "target_kind": ref.kind, "target_id": ref.id},
        )
        change = change.model_copy(
            update={"ref": RecordRef(profile=ref.profile, kind=NOTE_KIND, id=f"local:{change.id}")}
        )
        entry = Activity(
            id=f"local:{change.id}",
            occurred_at=utcnow(),
            summary=text.splitlines()[0][:80],
            body=text,
            who="you (queued)",
            type=ActivityType.NOTE,
        )
        return self._enqueue(change, timeline_of=ref, entry=(ref, entry), what="your note")

    def note_refusal(self, ref: RecordRef) -> str | None:
        """Why no note can be added on ``ref``: its kind is none of those the vendor
        declares notes on (``Vendor.notes``); None when it can (or the profile is not
        open: nothing to tell by)."""
        adapter = self.states[ref.profile].adapter
        if adapter is None or adapter.notes.take(ref.kind):
            return None
        kinds = {k.kind: k.label.lower() for k in self.cached_kinds(ref.profile)}
        named = [kinds.get(k, k) for k in adapter.notes.on]
        where = " and ".join([", ".join(named[:-1]), *named[-1:]] if len(named) > 2 else named)
        what = kinds.get(ref.kind, ref.kind)
        if not where:
            return f"{self.vendor_label(ref.profile)} takes no notes from crmtui"
        return f"{self.vendor_label(ref.profile)} takes notes on {where}, not on {what}"

    def _enqueue(
        self,
        change: Change,
        timeline_of: RecordRef | None = None,
        *,
        entry: tuple[RecordRef, Activity] | None = None,
        what: str = "your edit",
    ) -> Change:
        """Queue ``change`` with its optimistic record and timeline ``entry``, all or none
        (``CacheWriteError`` when the cache cannot be written: nothing shows as queued)."""
        self.store.enqueue(change, entry=entry, what=what)
        self.emit(RecordChanged(timeline_of or change.ref))
        self.emit(ListChanged(change.ref.profile, change.ref.kind))
        self.outbox.changed(change.ref.profile)
        self.outbox.kick(change.ref.profile)
        return change

    # -- the queue as the user sees it ----------------------------------------------

    def queued(self, profile: str | None = None) -> int:
        return self.store.queued_count(profile)

    def changes(self, profile: str | None = None) -> list[Change]:
        states = [s for s in ChangeState if s is not ChangeState.DONE]
        return self.store.changes(profile=profile, states=states)

    def describe(self, change: Change, *, cut: int | None = None) -> str:
        """A change as a rep reads it: field labels and values as the record shows them
        (``Amount: 12,400.00 → 8,000.00; Stage: Won``), a reference by the record's
        name, a missing value as "empty", a note by its first line.
        ``cut``: each value to this many characters (with …), for a narrow place."""
        profile, kind = change.ref.profile, change.ref.kind

        def shown(spec: FieldSpec | None, value: Any, currency: Any = None) -> str:
            money = spec is not None and spec.type is FieldType.MONEY
            if currency and money and value not in (None, ""):
                text = money_text(value, str(currency))  # "8,000.00 GBP"
            else:
                text = self.references.describe(profile, kind, spec, value)
            return text if cut is None or len(text) <= cut else text[: cut - 1] + "…"

        if change.op is ChangeOp.CREATE and change.ref.kind == NOTE_KIND:
            lines = str(change.values.get("text") or "").strip().splitlines()
            return f"note: {shown(None, lines[0] if lines else '')}"
        if change.ref.kind == LOG_KIND:
            logged = f"logged: {shown(None, self.calls.summary(change))}"
            return logged if change.op is ChangeOp.CREATE else "delete the logged call"
        if change.op is ChangeOp.DELETE:
            return "delete the record"
        specs = {s.key: s for s in self.cached_fields(change.ref.profile, change.ref.kind)}
        after, before = self._currencies(change, specs)
        parts = []
        for key, value in change.values.items():
            if key.startswith("target_"):  # where a note goes, not what it says
                continue
            spec = specs.get(key)
            label = spec.label if spec else key
            if change.op is ChangeOp.UPDATE:
                was = shown(spec, change.base.get(key), before)
                parts.append(f"{label}: {was} → {shown(spec, value, after)}")
            else:
                parts.append(f"{label}: {shown(spec, value, after)}")
        text = "; ".join(parts)
        return f"new: {text}" if change.op is ChangeOp.CREATE else text

    def _currencies(self, change: Change, specs: dict[str, FieldSpec]) -> tuple[Any, Any]:
        """The currency (``Role.CURRENCY``) of the amounts a change sets and of those it
        replaces: its own, else the record's as cached (queued edits applied); None when
        it sets no amount or the kind has no currency (SalesforceIQ: the number alone)."""
        info = self.kind_info(change.ref.profile, change.ref.kind)
        money = info.role(Role.CURRENCY) if info else None
        amounts = [k for k in change.values if (s := specs.get(k)) and s.type is FieldType.MONEY]
        if not money or not amounts:
            return None, None
        after = change.values.get(money) or self.currency(change.ref)
        return after, change.base.get(money) or after

    def currency(self, ref: RecordRef) -> str | None:
        """The ISO code of a record's amounts (its ``Role.CURRENCY`` field as cached,
        queued edits applied), for ``fields.money_text``; None when its kind keeps none."""
        info = self.kind_info(ref.profile, ref.kind)
        money = info.role(Role.CURRENCY) if info else None
        code = self.store.get_field(ref, money) if money else None
        return str(code) if code not in (None, "") else None

    def discard(self, change_id: str) -> list[Change]:
        """Drop a queued change (a create: with its record's later changes); returns what
        was dropped. ``undo_discard`` brings it back while this service runs.
        ``ChangeBusy``: it is being sent; wait or retry later."""
        gone = self.store.discard(change_id)
        if gone:
            self._discarded.append(gone)
            self._queue_moved(gone[0].change.ref)
            self.outbox.kick(gone[0].change.ref.profile)  # what it held back may go now
        return [g.change for g in gone]

    def undo_discard(self) -> list[Change]:
        """Bring back the changes of the last discard, exactly as they were (state,
        values, base, tries, place in their record's order); [] when none is left. A
        discard of a profile forgotten since brings nothing back, and is passed over."""
        while self._discarded:
            back = self.store.restore(self._discarded.pop())
            if back:  # none: its profile was forgotten since (``crmtui forget``)
                self._queue_moved(back[0].ref)
                self.outbox.kick(back[0].ref.profile)
                return back
        return []

    @property
    def can_undo_discard(self) -> bool:
        return bool(self._discarded)

    def _queue_moved(self, ref: RecordRef) -> None:
        self.emit(RecordChanged(ref))
        self.emit(ListChanged(ref.profile, ref.kind))
        self.outbox.changed(ref.profile)

    def waiting(self, profile: str | None = None) -> dict[str, Change]:
        """Changes held back by an earlier one of their record (or the create they name)
        that waits for the user (refused, conflict, uncertain): ``{id: holder}``."""
        held = self.store.held_back(profile)
        holders = {h: self.store.get_change(h) for h in set(held.values())}
        return {c: found for c, h in held.items() if (found := holders[h]) is not None}

    def retry(self, change_id: str) -> None:
        """Send a change again now ("send again" for an uncertain one: the user checked
        that it did not arrive). One that may have arrived is checked with the vendor
        first. ``ChangeBusy`` (with the reason) for a done change or one being sent."""
        change = self.store.get_change(change_id)
        if change is None:
            return
        self.store.requeue(change_id, checked=change.state is ChangeState.UNCERTAIN)
        self.outbox.changed(change.ref.profile)
        self.outbox.kick(change.ref.profile)

    def mark_arrived(self, change_id: str) -> None:
        """The user saw the change on the vendor's side ("it arrived"): done, not sent.

        For an uncertain change, whose outcome crmtui could not check. ``ChangeBusy``
        when it is being sent.
        """
        change = self.store.confirm(change_id)
        target = change.ref
        if change.op is ChangeOp.CREATE and change.ref.kind == NOTE_KIND:
            target = note_target(change)
        elif change.op is ChangeOp.CREATE and change.ref.kind == LOG_KIND:
            target = log_target(change)
        timeline = self.store.get_timeline(target)
        if timeline is not None:  # the queued entry leaves; the vendor's comes on refresh
            self.store.put_timeline(target, [a for a in timeline if a.id != f"local:{change.id}"])
        self.emit(RecordChanged(target))
        self.emit(ListChanged(change.ref.profile, change.ref.kind))
        self.outbox.changed(change.ref.profile)

    def resolve(self, change_id: str, choices: dict[str, str]) -> None:
        """Settle a conflict field by field: ``{"amount": "mine", "stage": "theirs"}``.

        Fields kept as "mine" are sent again on top of the server's current version;
        fields taken as "theirs" leave the change. If none is kept, it is discarded.
        A delete (the undo of a create) is one choice: "mine" deletes the record all the
        same, "theirs" keeps it (the undo discarded).
        """
        change = self.store.get_change(change_id)
        if change is None or change.state is not ChangeState.CONFLICT:
            return
        if change.op is ChangeOp.DELETE:
            # the undo of a create, the record changed since: "mine" (any field) deletes
            # it all the same, expecting the values the server has now; else it is kept
            if "mine" not in choices.values():
                self.discard(change_id)
                return
            self.store.rebase_change(
                change_id,
                values={},
                base=dict(change.theirs),
                base_updated_at=change.theirs_updated_at,
            )
            self.retry(change_id)
            return
        mine = {k: v for k, v in change.values.items() if choices.get(k, "mine") == "mine"}
        if not mine:
            self.discard(change_id)
            return
        self.store.rebase_change(
            change_id,
            values=mine,
            base=dict(change.theirs),
            base_updated_at=change.theirs_updated_at,
        )
        self.retry(change_id)

    def change(self, change_id: str) -> Change | None:
        """A queued (or done) change by id."""
        return self.store.get_change(change_id)

    def send_due(self, profile: str | None = None) -> None:
        """Send what is due in the background (every profile by default)."""
        for name in [profile] if profile else self.states:
            self.outbox.kick(name)

    async def send_now(self, profile: str) -> int:
        """Send every queued edit of ``profile`` now, failed ones too; how many went."""
        self.store.make_due(profile)
        sent = await self.outbox.flush(profile)
        await self.outbox.wait_idle()
        return sent

    def notice(self, text: str, severity: Severity = "information", profile: str = "") -> None:
        self.emit(Notice(text, severity, profile))

    # -- what the screens show of the profiles, the budget and the requests ---------------

    @property
    def profile_names(self) -> list[str]:
        return list(self.states)

    def status(self, profile: str) -> ProfileStatus:
        state = self.states[profile]
        return ProfileStatus(
            profile,
            state.vendor_label,
            state.online,
            state.message,
            auth_failed=state.auth_failed,
        )

    def summary(self, profile: str) -> ProfileSummary:
        """The profile's status with what its cache holds (counts: a query each)."""
        state = self.states[profile]
        return ProfileSummary(
            name=profile,
            vendor_label=state.vendor_label,
            online=state.online,
            message=state.message,
            auth_failed=state.auth_failed,
            cached=self.store.count_profile(profile),
            last_synced=self.store.last_synced(profile),
            queued=self.store.queued_count(profile),
        )

    def vendor_label(self, profile: str) -> str:
        """The profile's vendor in the vendor's own words (``Freshsales``)."""
        return self.states[profile].vendor_label

    def budget(self, profile: str) -> Budget | None:
        """The profile's rate budget now; None when the profile could not be opened."""
        adapter = self.states[profile].adapter
        if adapter is None:
            return None
        bucket = adapter.limiter.current
        return Budget(bucket.budget, bucket.remaining, bucket.capacity, bucket.wait_time(1))

    def request_log(self) -> list[LogEntry]:
        """The most recent requests, oldest first (secrets already redacted)."""
        return list(self.http.log.entries)

    def watch_requests(self, listener: Callable[[LogEntry], None]) -> Callable[[], None]:
        """Call ``listener`` with each new request log entry; returns how to stop."""
        listeners = self.http.log.listeners
        listeners.append(listener)

        def stop() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return stop

    def unusable(self, error: BaseException) -> CacheUnusable | None:
        """The cache's one-line error when ``error`` is its SQLite failing in use."""
        return self.store.unusable(error)

    # -- closing ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop background sends and close the adapters; then, when made by ``open_crm``,
        the HTTP client and the cache, in that order, each even if a step before it
        failed or was cancelled. Closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._stop_hearing()
        try:
            await self.outbox.stop()
            for state in self.states.values():
                if state.adapter is not None:
                    with contextlib.suppress(Exception):
                        await state.adapter.close()
        finally:
            if self._owned:
                try:
                    await self.http.aclose()
                finally:
                    self.store.close()

    async def __aenter__(self) -> Crm:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def open_crm(
    profiles: Iterable[Profile], *, store: Store | str | Path, http: Http | None = None
) -> Crm:
    """The service over ``profiles``, owning its cache and HTTP client: the one way the
    app, the CLI, the demo and the notebook API get one.

    ``async with open_crm(profiles, store=path) as crm: ...`` closes the client and the
    cache when the block ends, even on an error or a cancel; or hand it to an owner (the
    app, a notebook ``Client``) that calls ``close()``. ``store`` is a path (the cache is
    opened: ``CacheUnusable`` if it cannot be) or an open ``Store``; ``http`` one that
    already has apps mounted (the demo), else a new one.
    """
    cache = store if isinstance(store, Store) else Store(store)
    try:
        return Crm(cache, http or Http(), profiles, owned=True)
    except BaseException:
        cache.close()
        raise
