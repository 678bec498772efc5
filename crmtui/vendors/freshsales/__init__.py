"""Freshsales: ``adapter`` (the Vendor), ``resources`` (kinds and fields, declared),
``auth`` (host, token, error bodies), ``paging`` (views, sorts, the Scroll API),
``records`` (names, related records) and ``timeline`` (activities).

Real-vendor notes (the seed ``freshsales-api.txt`` is the authority)
----------------------------------------------------------------------
Endpoints used, all under ``https://NAME.freshsales.io/api/`` (a Freshworks-suite account,
``NAME.myfreshworks.com``, under ``/crm/sales/api/``), ``Authorization: Token token=<key>``:

- Lists: ``GET <kind>/filters`` (the views) and ``GET <kind>/view/<id>`` with ``page``,
  ``per_page`` (100), ``sort``/``sort_type`` (only the doc's sort fields per kind) and
  ``include=owner``; tasks ``GET tasks?filter=open|due_today|due_tomorrow|overdue|
  completed`` with ``include=owner,targetable``. End of a list: ``meta.total_pages``.
- Sync: ``GET <kind>/scroll/<view>?limit=100&last_fetched_id=<id>`` (the doc's route to
  "all available records"; a view is "a defined set"), over the "All ..." view, for
  deals the Open, Won and Lost views together; tasks as ``open`` then ``completed``.
  Ends on ``meta.has_next_page`` false or a ``last_fetched_id`` that does not move on.
  An incremental sync of a kind with an "All" view reads it sorted ``updated_at desc``
  and stops at the mark; deals and tasks are re-read whole and filtered.
- Records: ``GET|PUT|DELETE <kind>/<id>``, ``POST <kind>`` in the doc's wrapper
  (``{"contact": {...}}``), ``include=`` embeds; notes ``POST notes``; field settings
  ``GET settings/<kind>/fields``; choices ``GET selector/<name>`` and
  ``selector/deal_pipelines/<id>/deal_stages``.
- Timelines: ``GET leads|contacts/<id>/activities?include=user`` (documented for those
  two only) and the record's own embeds: notes, tasks, appointments; a deal's
  ``sales_activities`` (the doc's embed) and its stage since ``stage_updated_time``.

Documented limits: 1000 requests per hour per account (429 past it); 301/302 "ensure
that your API client follows redirects": followed for reads, to the same origin only
(the token never goes to another host; writes never follow); errors ``{"errors":
{"code", "message"}}``; dropdown custom fields take the choice's text.

Assumed where the doc is silent: the scroll's largest ``limit`` (100, as pages); that
Open, Won and Lost deals are every deal (each stage has one of those forecast types);
notes, tasks and appointments of accounts and deals as embeds (the doc's deal sample
links them); a replayed create is looked for among the 100 newest created records of
those views.

Search: the doc has no search route (the public ``GET search`` and ``lookup`` are not
in it), and its views are the account's saved filters, which a request cannot narrow;
so crmtui offers no vendor search on Freshsales (``KindInfo.searchable`` false): the
search a user types searches the cache (the lists read, and every record once a sync,
``crmtui sync``, has read them through the Scroll API); the app says "(cached only)".
``Query.search`` is ignored.
Public connectors read the same way (Airbyte: Open/Won/Lost deal views, open and
completed tasks, ``/crm/sales/api/``; a Singer tap: the same views, contacts'
activities only).
"""

from crmtui.vendors.freshsales.adapter import Freshsales

__all__ = ["Freshsales"]
