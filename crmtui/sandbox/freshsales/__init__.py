"""Freshsales sandbox: the documented ``/api/`` of Freshsales over a seeded sales team.

Served: every endpoint the contract (``contract.py``, from the seed) documents, and only
those: the sandbox is declared on the shared kit (``crmtui.sandbox.kit``), which makes its
routes from the contract, under ``/api/`` and a bundle account's ``/crm/sales/api/``.
Leads, contacts, sales accounts and deals (create, view, update, delete, ``bulk_destroy``,
``filters``, ``view/<id>``, ``scroll/<id>``, lead ``convert``; leads' and contacts'
``<id>/activities``), tasks and appointments (``?filter=``), notes, sales activities, the
Configuration selectors, ``/api/settings/<kind>/fields`` and ``include=`` side-loading
(``app.py``); upsert, bulk upsert and Job Status, clone, forget, bulk owner assignment,
team members, the manual call log, files and the CPQ products and documents
(``extras.py``, with their decisions). ``data.py`` holds the seeded data, ``render.py``
the bodies, ``writes.py`` the checks.

Decisions where the documentation is silent or ambiguous:

- Auth: ``Authorization: Token token=<key>`` (quotes around the key allowed); the key
  ``sandbox`` belongs to the first user (Sam Carter, the admin). A missing or wrong key
  gets 401 with the documented body. The ``expire`` fault makes exactly the next request
  get that 401 (Freshsales keys do not expire; a rotated key looks like this once).
- Errors: ``{"errors": {"code": <status as a number>, "message": "..."}}``. Validation
  errors are 400 (accounts made after August 2018); unknown ids, views, paths and
  methods are 404. Unknown body attributes are ignored; unknown custom fields are 400.
- Rate limit: 1000 authenticated requests per hour per account (a fixed window that
  every user's key of the account counts in); past it a 429 in the same body with
  ``Retry-After`` (seconds to the window's end; the doc names no headers). Refused (401)
  requests do not count. ``app.state.limit`` is the account's window.
- Ids in paths are digits (a Rails route): ``/api/contacts/abc`` is an unknown URL, 404.
- Creates answer 201 (as the upsert section says of creation), everything else 200.
  Deletes of leads/contacts/accounts/deals answer ``true``; tasks and notes the deleted
  body; appointments and sales activities ``{"success": "200"}``, as documented.
- Bodies carry every documented attribute (blank ones null) in lists and single views;
  ``owner_id``, ``creater_id``, ``targetable_type``/``_id`` and a deal's ``contact_ids``
  are always present. Timestamps are ``YYYY-MM-DDTHH:MM:SSZ`` (Schema); inputs take the
  Schema's ISO forms and the samples' JS dates (``Tue Jun 21 2016 11:00:00 GMT+0000``).
  Money is decimal text (``"23456.0"``); deals get ``base_currency_amount`` from the
  currency's exchange rate.
- ``include=``: ``owner``/``creater``/``updater`` side-load ``users``; choice handles
  (``deal_stage``, ``currency``, ``territory``, ``source``...) their selector array;
  has-many handles (``tasks``, ``notes``, ``appointments``, ``sales_activities``,
  ``deals``, ``contacts``) side-load the array and add ``<singular>_ids`` to the record;
  a contact's ``sales_accounts`` is embedded in the contact (as the doc's sample shows).
  Unknown handles are ignored. Tasks/appointments take ``targetable``, ``owner``,
  ``users``, ``creater``, ``appointment_attendees``.
- Paging: ``page`` (from 1) and ``per_page`` (default 25, at most 100; more is cut to
  100); ``meta`` is ``{"total_pages", "total"}``. Sorting takes only the doc's fields per
  kind (other values are 400); default ``updated_at desc``; ties by id; blanks last.
- Views: ids 1..n in the doc's order and names. "All Leads/Contacts/Accounts" hold
  everything. "Recent Deals" (the doc's "to fetch all deals", but each view API section
  says views return "a defined set of records" and sends "all available records" to the
  Scroll API) holds the deals changed in the last 90 days; "My ..." means
  owned by the key's user; "New"/"Recently Modified" the last 30 days; Hot/Warm/Cold
  leads by score (70/40); Hot/Cold deals open with probability >= 60 / <= 25; "Open",
  "Won", "Lost" deals by the stage's ``forecast_type``. Scroll: ids above
  ``last_fetched_id``, ascending.
- Deal stages: two pipelines (Sales Pipeline, default; Renewals). Each stage carries
  ``forecast_type`` (Open/Won/Lost), ``probability`` and the fields sample's
  ``choice_type``. ``/api/selector/deal_stages`` lists the default pipeline's stages (the
  doc's later line); the deal fields' stage choices list every pipeline's. Moving a
  deal's stage sets ``stage_updated_time``, the stage's probability (unless given),
  ``closed_date`` (cleared on reopening) and writes a STAGE_CHANGE activity. A lost
  reason is refused unless the stage is a Lost one.
- Deals need ``name``, ``amount`` and an account (``sales_account_id`` or
  ``sales_account: {name}``), as documented; ``contacts_added_list`` /
  ``contacts_removed_list`` edit the contacts. Contacts need ``last_name`` and one of
  email/mobile/twitter; emails are unique per kind.
- Tasks: ``status`` 0/1; completing sets ``completed_date``. Filters ``open``, ``due
  today``, ``due tomorrow``, ``overdue``, ``completed`` (underscores accepted; days in
  UTC); a missing filter is 400. ``task_type_id`` and ``outcome_id`` are sales activity
  type and outcome ids. Appointment filters: ``open``/``upcoming`` (not ended),
  ``overdue`` (ended, no outcome), ``complete`` (ended with an outcome), ``past``.
- Activities (``/api/<kind>/<id>/activities``, for leads and contacts as documented;
  accounts and deals answer it 404; ``.json`` allowed): newest first, ``limit`` (and ``page`` with it), ``include=user``. Action
  types: STAGE_CHANGE, NOTE_CREATED, TASK_CREATED, TASK_COMPLETED, APPOINTMENT_CREATED,
  SALES_ACTIVITY_CREATED, EMAIL_SENT, EMAIL_REPLIED, PAGE_VIEWS. A contact's and an
  account's feed include their deals' entries. ``composite_id`` is ``<id>_<TYPE>``.
- Search: ``GET /api/search`` (the real, undocumented endpoint) is not in the seed, so
  the sandbox does not serve it: it is the documented 404 of an unknown URL, and crmtui
  searches Freshsales records in its cache.
- Data: six users, ~100 accounts, ~300 contacts, 80 leads, 150 deals, 250 tasks, 60
  appointments per ``scale``; notes, calls/meetings/chats, emails, page visits and stage
  history are made per record on first need from the record's own RNG (so any scale
  builds fast and reads the same whatever the order); ``scale=1`` makes them all at once.
"""

from crmtui.sandbox.freshsales.app import create_app

__all__ = ["create_app"]
