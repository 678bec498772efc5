"""ActiveCampaign's transport quirks: its error bodies, a stray 403 retried once on a read,
and the collections read whole (``limit``/``offset``, the total in ``meta.total``).

AC answers a bad key with 403; it also sends stray 403s under load, so one 403 on a read
is retried once before it is reported (a write never is).
"""

from __future__ import annotations

from typing import Any

import httpx

from crmtui.http import PermissionDenied, VendorSession
from crmtui.http.client import json_object
from crmtui.vendors.mapping import Offset, dig, fetch_all, number

Row = dict[str, Any]
PAGE_MAX = 100


def parse_error(response: httpx.Response) -> str | None:
    """AC's ``{"message": ...}`` or the titles of a v3 ``errors`` array."""
    body = json_object(response)
    if body is None:
        return None
    if body.get("message"):
        return str(body["message"])
    titles = [str(e.get("title")) for e in body.get("errors") or [] if isinstance(e, dict)]
    return "; ".join(t for t in titles if t) or None


def total_of(body: Row) -> int:
    """``meta.total``; 0 when it is missing or no number (the pages still show)."""
    total = number(dig(body, "meta.total"))
    return max(int(total), 0) if total is not None else 0


async def call(session: VendorSession, method: str, path: str, **kwargs: Any) -> Any:
    """One request; a single stray 403 on a read is retried once.

    A write is never sent again here (no automatic re-send of a write): its 403 is
    raised as retryable, so the outbox sends it again later, after its delay. A 403
    proves nothing was applied, so that later try is safe; a 403 that persists shows
    in the outbox with each try.
    """
    try:
        return await session.json(method, path, **kwargs)
    except PermissionDenied as exc:
        if method.upper() != "GET":
            exc.retryable = True  # maybe a stray one: the outbox tries again later
            raise
        return await session.json(method, path, **kwargs)


async def read_all(
    session: VendorSession, path: str, plural: str, params: dict[str, Any] | None = None
) -> list[Row]:
    """Every page of a collection (each read through ``call``: a stray 403 is retried)."""
    paging = Offset(total="meta.total")

    async def page(cursor: str | None) -> tuple[list[Row], str | None]:
        query = {**(params or {}), **paging.params(cursor, PAGE_MAX)}
        body = await call(session, "GET", path, params=query)
        batch = body.get(plural) or []
        return batch, paging.next_cursor(cursor, PAGE_MAX, len(batch), body)

    return await fetch_all(page)
