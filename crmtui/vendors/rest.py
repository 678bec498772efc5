"""A vendor whose kinds are plain JSON collections, entirely from its declarations.

``RestVendor`` reads and writes every kind of ``resources`` the usual REST way: a page
``GET <path>`` (paged as ``Resource.paging`` says; the records at ``Resource.items``),
``GET/PUT/DELETE <item>`` and ``POST <path>``, one record wrapped in ``Resource.wrapper``
both ways. A record's title is its ``Role.TITLE`` field. A vendor with quirks overrides a
method or two (``record``, ``list_page``...); one without needs only its declarations:
``name``, ``label``, ``settings``, ``budget``, ``connection``, ``resources`` and
``default_base_url``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from crmtui.fields import parse_datetime
from crmtui.http import BadResponse
from crmtui.model import Activity, Change, KindInfo, Page, Query, Record, RecordRef, Role
from crmtui.vendors.base import Vendor
from crmtui.vendors.mapping import Json, Resource, dig, record_id


class RestVendor(Vendor):
    """Records of every declared resource, read and written as declared."""

    update_method: ClassVar[str] = "PUT"  # or "PATCH"
    created_at: ClassVar[str] = "created_at"  # where a record keeps its times (dotted)
    updated_at: ClassVar[str] = "updated_at"

    async def kinds(self) -> list[KindInfo]:
        return [
            r.kind_info(
                columns=["title", *[f.key for f in r.fields if f.role is not Role.TITLE][:4]],
                searchable=False,
                editable=any(f.writable for f in r.fields),
                creatable=True,
                deletable=True,
            )
            for r in self.resources.values()
        ]

    async def list_page(self, kind: str, query: Query) -> Page:
        resource = self.resource(kind)
        params = resource.paging.params(query.cursor, query.per_page)
        body = await self.session.json("GET", resource.path, params=params)
        found = dig(body, resource.items or resource.path) if isinstance(body, dict) else body
        if not isinstance(found, list):
            raise BadResponse(self.label, f"the reply to {resource.path} held no list")
        records = [await self.record(resource, item) for item in found if isinstance(item, dict)]
        cursor = resource.paging.next_cursor(query.cursor, query.per_page, len(found), body)
        return Page(records=records, next_cursor=cursor)

    async def get(self, kind: str, id: str) -> Record:
        resource = self.resource(kind)
        return await self.record(resource, await self._one("GET", resource, resource.item(id)))

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        return []

    async def update(self, change: Change) -> Record:
        resource = self.resource(change.ref.kind)
        body = resource.wrap(resource.write(change.values, self.context()))
        path = resource.item(change.ref.id)
        return await self.record(
            resource, await self._one(self.update_method, resource, path, body)
        )

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        resource = self.resource(kind)
        body = resource.wrap(resource.write(values, self.context()))
        return await self.record(resource, await self._one("POST", resource, resource.path, body))

    async def delete(self, ref: RecordRef) -> None:
        path = self.resource(ref.kind).item(ref.id)
        await self.session.request("DELETE", path, expect_json=False)

    async def _one(self, method: str, resource: Resource, path: str, body: Any = None) -> Json:
        reply = await self.session.json(method, path, json=body)
        item = (
            reply.get(resource.wrapper) if resource.wrapper and isinstance(reply, dict) else reply
        )
        if not isinstance(item, dict):
            raise BadResponse(self.label, f"the reply to {path} held no {resource.singular}")
        return item

    async def record(self, resource: Resource, item: Json) -> Record:
        """One vendor record as a ``Record`` (title: its ``Role.TITLE`` field)."""
        fields = resource.read(item, self.context())
        id = record_id(self.label, item.get("id"), resource.kind)
        title_key = resource.roles().get(Role.TITLE)
        title = fields.get(title_key) if title_key else None
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=resource.kind,
            id=id,
            title=str(title or f"{resource.singular or resource.kind} {id}"),
            created_at=parse_datetime(dig(item, self.created_at)),
            updated_at=parse_datetime(dig(item, self.updated_at)),
            fields=fields,
            raw=item,
        )
