"""SalesSeek (REST API, 2017 docs): see ``adapter`` for the adapter and its conventions.

Real-vendor notes (the seed ``salesseek-api.txt`` is the authority)
---------------------------------------------------------------------
Endpoints used, under ``https://CLIENT_ID.salesseek.net/api/``:

- Session: ``POST login`` (form fields ``email_address``, ``password``) sets the
  ``salesseek`` cookie, sent on every request; a 401 logs in again once; ``DELETE
  logout`` on close.
- Lists: ``GET organizations|individuals|opportunities|tasks|groups`` with ``start``
  (0-based) and ``rows`` (100), ``order_by=<field> <asc|desc>``, ``search`` where the
  seed documents it (organizations, individuals, tasks; groups: ``element_type``); the
  total is the ``Records-Total`` header, the end ``start + rows >= Records-Total`` or an
  empty page. Group members: ``GET group_pages``.
- Users: ``GET users/<id>`` (the only documented read of a user).
- Records: ``GET|PATCH|DELETE <kind>/<id>`` (individuals update by ``POST
  individuals/<id>``, as documented), ``POST <kind>`` (``individuals/`` and
  ``opportunities/`` with the doc's trailing slash); custom fields ``GET custom_fields``
  (``rows=-1``, ``filter=view=<kind>``).
- Timelines: ``GET activities`` (``item_type``, ``item_id``, the family flags,
  ``order_by=created desc``, 100 rows); notes ``POST activities``.

Documented limits: none (no rate limit, no largest ``rows``, no error schema): crmtui
keeps to 300 requests a minute, asks 100 rows a page and reads an error body's
``detail`` (the sandbox's choice of error body).

Assumed where the doc is silent: the sync's incremental read is ``order_by=modified
desc`` stopped at the first older record (no "modified since" parameter); views and
filters (mine, open/won/lost, done/overdue) are applied to each page on the client (the
API has none outside smart groups). Only documented routes are used, so where the doc
has no list: the users offered (owner, assignee) are the signed-in user (the login
answer) and the users embedded as ``owner``/``creator``/``assignee`` in the 100 newest
changed organizations and tasks and the 500 newest changed deals (``order_by=modified
desc``), those named by id alone read with ``GET users/<id>`` (20 at most); a user who
owns none of those is not offered (set in SalesSeek itself). The funnels and phases
offered are those embedded (``funnel``, ``phase``) in those deals, in the funnel's and
phase's ``order``: a phase no recent deal is in is not offered. A deal search reads
deal pages and keeps the names holding the text (the doc has ``search`` on
organizations, individuals and tasks only); search answers are "reduced" (the doc), so
their records are partial and never replace a fuller cached one.
"""

from crmtui.vendors.salesseek.adapter import SalesSeek

__all__ = ["SalesSeek"]
