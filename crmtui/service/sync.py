"""Sync whole kinds into the cache: planned, paced, incremental and resumable.

``await crm.sync(profile, kinds=None, progress=callback)`` pulls every record of each
kind into the store, page by page (``Sync`` does it through the service's ``Ports``).

- **Incremental**: the first sync of a kind is full; later ones ask the adapter only for
  what changed since the last one (``Query.updated_since``; each adapter's docstring
  says how its vendor honours it). The mark is the newest ``updated_at`` the vendor
  sent (the vendor's clock), but never later than when the sync began (ours), re-asked
  with ``OVERLAP`` of slack; records the cache already holds at the same ``updated_at``
  are skipped, not rewritten or counted (but for a record a change of which the vendor
  confirmed lately: someone else's change in the same second carries the same stamp at
  a vendor stamping whole seconds, see ``Store.updated_stamps``). A record a change of
  which was confirmed while its page was read is left as the cache holds it, and not
  counted (``upsert_records``' ``left_at``): the mark held at the sync's start brings
  a later change of it with the next sync. A full sync is a sync "changed since 1970".
  Not every vendor reads in update order (ActiveCampaign's deals and Freshsales's
  scroll go by id): a record read early and edited while a long sync runs is not read
  again, and a record read later may carry a newer ``updated_at`` than that edit; the
  mark held at the sync's start brings the edit with the next sync. (The vendor's
  clock behind ours by less than ``OVERLAP`` is covered.)
- **Resumable**: after each page the cursor, the counts and the mark so far are saved
  with ``store.put_sync_state(profile, kind, {..., "run": {...}})``; a sync that was
  interrupted (offline, Ctrl+C, a crash) continues from the next page.
- **Paced**: a sync never bursts. While it runs, the adapter's limiter holds a steady
  budget (``RateLimiter.holding``) at ``PACE`` of the vendor's documented budget with a burst of at most the
  remaining ``1 - PACE`` share, so that even a vendor's fixed window (N per window,
  counted from the window's first request) never sees more than N. The plan shown
  before a full sync (``SyncPlan``) gives the budget and the requests it will take.
- **Offline**: the vendor unreachable stops the sync with ``Offline`` naming what was
  kept; records already stored stay, and the next sync continues from there.
- **Bounded**: a vendor whose paging never ends cannot hold a sync forever. A kind's
  sync stops at a page cursor it was already given (the vendor loops: the next sync
  starts the kind over) and after ``page_cap`` pages (the vendor keeps sending more
  than it said it had: the next sync continues from there). What was read is kept, and
  one line says which vendor and kind stopped and why: the ``SyncResult.error`` (the
  ``crmtui sync`` output, the notebook's table), the last ``SyncProgress.stopped`` and
  a warning ``Notice`` (the app's status line).

Deletions on the server are not seen by an incremental sync (no vendor lists them).
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crmtui.fields import parse_datetime
from crmtui.http import CrmError, Offline, RateBudget
from crmtui.model import KindInfo, Page, Query, Record, utcnow
from crmtui.service.events import ListChanged, Notice
from crmtui.service.ports import Ports
from crmtui.store.db import to_text
from crmtui.vendors.base import Vendor
from crmtui.vendors.mapping import MAX_PAGES, PageBound

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PER_PAGE = 100
OVERLAP = timedelta(minutes=5)
PACE = 0.97  # share of the documented budget a sync uses: the rest absorbs timing jitter
# The most records one sync of a kind reads when nobody said how many there are: no
# account's kind holds more than a million records changed since the last sync that a
# rep would pull into a terminal's cache at once (10,000 pages of 100: ten hours of
# Freshsales's 1000 requests an hour). One that does is read over several syncs.
MOST_RECORDS = 1_000_000


def page_cap(per_page: int, expected: int | None) -> int:
    """The most pages one sync of a kind reads (see the module doc, **Bounded**).

    ``expected``: the records the vendor counted before the sync (a full sync's plan) or
    the cache holds, whichever is more (None: nobody knows). Twice the pages those take,
    plus ``MAX_PAGES`` more (records created or moved by an edit while the sync runs, a
    part-page at the end of each view), and never more than ``MOST_RECORDS`` take.

    Pages are counted at the page size asked for, but at most ``PER_PAGE``: every
    vendor's documented largest page holds at least 100 records (Freshsales, Salesloft
    and ActiveCampaign 100, SalesforceIQ 200, SalesSeek names no limit), so no vendor
    answers a page of ``PER_PAGE`` with fewer records and more pages.

    A vendor count of part of a kind only (Freshsales counts the deals of its "Recent
    Deals" view and the open tasks) can stop the first sync of a big account early: the
    next one continues from there, its cap grown with the records cached.
    """
    size = max(1, min(per_page, PER_PAGE))
    most = math.ceil(MOST_RECORDS / size)
    if not expected:
        return most
    return min(most, 2 * math.ceil(expected / size) + MAX_PAGES)


@dataclass
class SyncPlan:
    """What a sync of one kind will cost, shown before it starts."""

    profile: str
    kind: str
    label: str
    incremental: bool
    budget: RateBudget
    records: int | None  # how many records to fetch (None: unknown)
    requests: int | None  # how many list requests that takes

    @property
    def seconds(self) -> float | None:
        """The least time the requests take at the pace a sync keeps."""
        if self.requests is None:
            return None
        steady = steady_budget(self.budget)
        return max(0.0, self.requests - (steady.burst or 1)) / steady.per_second

    def describe(self) -> str:
        if self.incremental:
            what = "changes since the last sync"
        elif self.records is None:
            what = "full sync (size unknown)"
        else:
            what = f"full sync of {self.records:,} records in ~{self.requests:,} requests"
        seconds = self.seconds or 0
        eta = f", at least {_duration(seconds)} at that pace" if seconds >= 1 else ""
        return f"{self.label}: {what}; budget {self.budget.describe()}{eta}"


@dataclass
class SyncProgress:
    """Where a sync of one kind stands; the progress callback gets one after each page."""

    profile: str
    kind: str
    label: str
    records: int  # records received in this run (a resumed run counts what came before)
    changed: int  # of those, new or changed (written to the cache)
    pages: int
    requests: int  # requests sent to the vendor by this process for this kind
    total: int | None  # records expected in all (full syncs), when the vendor says
    elapsed: float  # seconds since this process started the kind
    incremental: bool
    resumed: bool
    done: bool = False
    plan: SyncPlan | None = None  # set on the first report, before any page
    stopped: str = ""  # on the last report: why the sync ended before the vendor's last page

    records_here: int = 0  # records received by this process (for the rate)

    @property
    def rate(self) -> float:
        """Records a second in this process."""
        return self.records_here / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left, from the measured rate (None when unknown)."""
        if self.done:
            return 0.0
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.records) / self.rate

    def bar(self, width: int = 24) -> str:
        """A one-line progress bar: ``Deals [#####.....] 500/1,000 · 5 pages · ...``."""
        if self.total:
            filled = min(width, round(width * self.records / self.total))
            gauge = f"[{'#' * filled}{'.' * (width - filled)}] {self.records:,}/{self.total:,}"
        else:
            gauge = f"{self.records:,} records"
        eta = self.eta
        if self.stopped:
            tail = "stopped"
        elif self.done:
            tail = "done"
        else:
            tail = f"ETA {_duration(eta)}" if eta is not None else "…"
        return (
            f"{self.label} {gauge} · {self.changed:,} new/changed · {self.pages} pages"
            f" · {self.requests} requests · {self.rate:,.0f} rec/s · {tail}"
        )


@dataclass
class SyncResult:
    profile: str
    kind: str
    label: str
    records: int
    changed: int
    pages: int
    requests: int
    seconds: float
    incremental: bool
    resumed: bool
    error: str = ""


Progress = Callable[[SyncProgress], Awaitable[None] | None]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def steady_budget(budget: RateBudget) -> RateBudget:
    """The budget a sync keeps: ``PACE`` of the rate (less, where the budget keeps a wider
    ``margin``), a burst the window can absorb."""
    burst = max(1.0, math.floor(budget.requests * (1 - PACE)))
    pace = min(PACE, 1 - budget.margin)
    return RateBudget(budget.requests * pace, budget.seconds, burst, budget.note)


def choose_kinds(profile: str, infos: list[KindInfo], wanted: list[str] | None) -> list[KindInfo]:
    """The kinds to sync: all of them, or those named by kind or label."""
    if not wanted:
        return infos
    chosen = []
    for name in wanted:
        key = name.strip().lower()
        match = next(
            (i for i in infos if key in (i.kind.lower(), i.label.lower(), i.singular.lower())),
            None,
        )
        if match is None:
            offered = ", ".join(i.kind for i in infos)
            raise CrmError(profile, f"no kind {name!r} here (there are: {offered})")
        chosen.append(match)
    return chosen


class Sync:
    """Sync kinds of a profile into the cache through the service's ports (see module doc)."""

    def __init__(self, ports: Ports, *, per_page: int = PER_PAGE) -> None:
        self.ports = ports
        self.per_page = per_page
        self.budget: RateBudget | None = None  # the profile's budget, while a sync runs

    async def run(
        self, profile: str, kinds: list[KindInfo], progress: Progress | None = None
    ) -> list[SyncResult]:
        """Sync ``kinds`` one after the other, paced steadily (see module doc).

        A kind the vendor refuses to list is reported in its ``SyncResult.error`` and the
        others go on; ``Offline`` stops the sync (what was stored is kept).
        """
        adapter = self.ports.adapter(profile)
        results = []
        began = self.ports.store.read_mark()
        with adapter.limiter.holding(steady_budget(adapter.limiter.budget)) as self.budget:
            for info in kinds:
                if self.ports.store.forgotten(profile, began):  # crmtui forget, meanwhile
                    break  # the kinds after are not read in: the profile stays forgotten
                try:
                    results.append(await self._kind(adapter, profile, info, progress))
                except Offline:
                    raise
                except CrmError as exc:
                    results.append(
                        SyncResult(profile, info.kind, info.label, 0, 0, 0, 0, 0.0, False, False)
                    )
                    results[-1].error = str(exc)
        return results

    async def plan(self, adapter: Vendor, profile: str, info: KindInfo) -> SyncPlan:
        """What a full sync of a kind will cost: one request of one record asks the size."""
        page = await self._list(profile, adapter, info.kind, Query(per_page=1))
        total = page.total
        if total is None:
            total = self.ports.store.count(profile, info.kind) or None
        requests = None if total is None else max(1, math.ceil(total / self.per_page))
        budget = self.budget or adapter.limiter.budget
        return SyncPlan(profile, info.kind, info.label, False, budget, total, requests)

    # -- one kind ------------------------------------------------------------------------

    async def _kind(
        self, adapter: Vendor, profile: str, info: KindInfo, progress: Progress | None
    ) -> SyncResult:
        store = self.ports.store
        began = store.read_mark()  # a profile forgotten from here on keeps no bookkeeping
        state = store.get_sync_state(profile, info.kind) or {}
        started, sent_before = time.perf_counter(), adapter.session.requests_sent
        run: dict[str, Any] | None = state.get("run")
        if run is not None and parse_datetime(run.get("since")) is None and run.get("since"):
            run = None  # a run whose mark cannot be read (a damaged sync state): start over
        resumed = run is not None
        plan = None
        if run is None:
            # a mark that cannot be read means a full sync, never a crash
            known = state.get("since") if parse_datetime(state.get("since")) else None
            run = {"since": known, "cursor": None, "mark": known, "began": to_text(utcnow())}
            run.update(records=0, changed=0, pages=0, total=None)
            if run["since"] is None:
                try:
                    plan = await self.plan(adapter, profile, info)
                except Offline as exc:
                    raise _kept(exc, run, info) from exc
                run["total"] = plan.records
            else:
                budget = self.budget or adapter.limiter.budget
                plan = SyncPlan(profile, info.kind, info.label, True, budget, None, None)
        mark = parse_datetime(run["since"])
        incremental = mark is not None
        since = mark - OVERLAP if mark is not None else EPOCH
        here = 0

        def report(done: bool = False, first: bool = False, stopped: str = "") -> SyncProgress:
            return SyncProgress(
                profile,
                info.kind,
                info.label,
                records=run["records"],
                changed=run["changed"],
                pages=run["pages"],
                requests=adapter.session.requests_sent - sent_before,
                total=run["total"],
                elapsed=time.perf_counter() - started,
                incremental=incremental,
                resumed=resumed,
                done=done,
                plan=plan if first else None,
                stopped=stopped,
                records_here=here,
            )

        expected = max(run["total"] or 0, store.count(profile, info.kind)) or None
        bound = PageBound(page_cap(self.per_page, expected), start=run["cursor"])
        await _tell(progress, report(first=True))
        while True:
            query = Query(per_page=self.per_page, cursor=run["cursor"], updated_since=since)
            left = store.read_mark()  # an edit confirmed while the page is read is kept
            try:
                page = await self._list(profile, adapter, info.kind, query)
            except Offline as exc:
                raise _kept(exc, run, info) from exc
            if store.forgotten(profile, began):  # crmtui forget, meanwhile: it stays so
                break
            here += len(page.records)
            # in a thread: a page holding a 20 MB field takes seconds to store, and the
            # screens go on meanwhile (pages are stored one after another, in order)
            fresh = await asyncio.to_thread(self._store, profile, info.kind, page, left)
            self._count(page, fresh, run)
            if bound.ends(page.next_cursor):
                break
            store.put_sync_state(profile, info.kind, {**state, "run": run}, left_at=began)
            self.ports.emit(ListChanged(profile, info.kind))
            await _tell(progress, report())
        stopped = _stopped(bound, adapter.label, info, here, expected)
        if bound.stop == "capped":  # the next sync continues after the last page read
            store.put_sync_state(profile, info.kind, {**state, "run": run}, left_at=began)
        elif bound.stop == "repeated":  # the next sync reads the kind over (from the mark)
            kept = {k: v for k, v in state.items() if k != "run"}
            store.put_sync_state(profile, info.kind, kept, left_at=began)
        else:
            store.put_sync_state(
                profile,
                info.kind,
                {
                    "since": _earlier(run["mark"], run.get("began")),
                    "synced_at": utcnow(),
                    "last": {k: run[k] for k in ("records", "changed", "pages")},
                },
                left_at=began,
            )
        self.ports.emit(ListChanged(profile, info.kind))
        if stopped:
            self.ports.emit(Notice(stopped, "warning", profile))
        final = report(done=True, stopped=stopped)
        await _tell(progress, final)
        return SyncResult(
            profile,
            info.kind,
            info.label,
            final.records,
            final.changed,
            final.pages,
            final.requests,
            final.elapsed,
            incremental,
            resumed,
            error=stopped,
        )

    async def _list(self, profile: str, adapter: Vendor, kind: str, query: Query) -> Page:
        return await self.ports.call(profile, adapter.list_page(kind, query))

    def _store(self, profile: str, kind: str, page: Page, left: int) -> int:
        """Store the page's new or changed records; returns how many were written (not
        one a change of which was confirmed since the page was asked for: ``left``, the
        store's ``read_mark`` then; the cache keeps the confirmed version)."""
        store = self.ports.store
        stamps = store.updated_stamps(profile, kind, [r.id for r in page.records])
        fresh = [r for r in page.records if _changed(r, stamps)]
        return store.upsert_records(fresh, synced_at=utcnow(), left_at=left)

    @staticmethod
    def _count(page: Page, fresh: int, run: dict[str, Any]) -> None:
        """Move the run's counters on past a stored page (``fresh``: records written)."""
        run["records"] += len(page.records)
        run["changed"] += fresh
        run["pages"] += 1
        run["cursor"] = page.next_cursor
        run["mark"] = _newest(page.records, run["mark"])


def _changed(record: Record, stamps: dict[str, str | None]) -> bool:
    if record.updated_at is None or record.id not in stamps:
        return True
    return stamps[record.id] != to_text(record.updated_at)


def _newest(records: list[Record], mark: str | None) -> str | None:
    stamps = [to_text(r.updated_at) for r in records if r.updated_at is not None]
    return max([s for s in (*stamps, mark) if s is not None], default=None)


def _earlier(mark: str | None, began: str | None) -> str | None:
    """The mark a finished sync keeps: the newest ``updated_at`` read, but not past when
    the sync began (a run saved by an older version has no ``began``)."""
    newest, start = parse_datetime(mark), parse_datetime(began)
    if newest is None or start is None:
        return mark
    return to_text(min(newest, start))


def _stopped(bound: PageBound, vendor: str, info: KindInfo, read: int, expected: int | None) -> str:
    """The one line telling why a sync of a kind stopped before the vendor's last page
    ("" when it did not)."""
    pages = f"the sync stopped after {bound.pages:,} pages ({read:,} records"
    if bound.stop == "repeated":
        return (
            f"{vendor} named a page of {info.label} it had already sent (its paging loops):"
            f" {pages}); what was read is kept and the next sync reads {info.label} over."
        )
    if bound.stop == "capped":
        more = f", {expected:,} expected" if expected else ", the most one sync reads"
        return (
            f"{vendor} kept sending pages of {info.label}: {pages}{more}); what was read"
            " is kept and the next sync continues from there."
        )
    return ""


def _kept(exc: Offline, run: dict[str, Any], info: KindInfo) -> Offline:
    """The offline error, saying what the cache kept and that the next sync resumes."""
    kept = run["records"]
    hint = (
        f"{kept:,} {info.label} received before that are kept; the next sync continues there."
        if kept
        else "The cache keeps what it had; sync again when the vendor can be reached."
    )
    return Offline(exc.vendor, f"sync of {info.label} stopped: {exc.message}", hint=hint)


async def _tell(progress: Progress | None, report: SyncProgress) -> None:
    if progress is None:
        return
    outcome = progress(report)
    if inspect.isawaitable(outcome):
        await outcome
