"""SalesforceIQ (API v2, ex-RelateIQ): see ``adapter`` for the adapter and its decisions.

Real-vendor notes (the seed ``salesforceiq-api.txt`` and the vendor notes):

- Endpoints. ``GET /v2/lists`` and ``lists/{id}`` (the field metadata),
  ``lists/{id}/listitems`` and ``listitems/{itemId}``, ``accounts``, ``accounts/{id}``,
  ``accounts/fields``, ``contacts``, ``contacts/{id}``, ``users/{id}`` (the owner
  names met in list items). Writes: ``POST lists/{id}/listitems?_upsert=contactIds|
  accountId``, ``PUT``/``DELETE`` list items, ``POST``/``PUT``/``DELETE`` accounts,
  ``POST contacts?_upsert=email``, ``PUT``/``DELETE`` contacts, ``PUT /v2/events``
  (a note is an event; the API cannot read events back).
- Parameters. ``_ids``, ``modifiedDate`` (ms, at or after) for incremental reads,
  ``accountIds``/``contactIds`` on list items, ``properties.email``/
  ``properties.phone`` on contacts (the only server search); no server sort.
- Paging. ``_start``/``_limit`` (``_limit`` at most 200, default 50 [doc]); the last
  page is the one shorter than ``_limit`` (``nextPage`` is not read: the doc only shows
  it null). The cursor is the next ``_start`` plus the last id read: a page ending on
  that id (a vendor ignoring ``_start``) ends the read. Whole collections go through
  ``mapping.fetch_all`` (bounded, stops on a repeated cursor).
- Updates. The doc's update body is "the item without id/modifiedDate/createdDate"; the
  adapter sends only what changed (the doc's own samples do), plus ``id`` and ``name``
  on accounts, which the doc requires. A whole item sent back, read-only fields
  unchanged, is accepted as documented (the sandbox does).
- Documented limits. 100,000 requests a day per API key [doc]; 429 past it until the
  next day.
- Assumed where the doc is silent: PUT answers of accounts and contacts are partial, so
  the record is read again after a write; list item ``version`` always bumps; the owner
  of a list item is a User field found by name ("Owner", else id ``1``).
"""

from crmtui.vendors.salesforceiq.adapter import SalesforceIQ

__all__ = ["SalesforceIQ"]
