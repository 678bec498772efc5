"""Salesloft (REST API v2): see ``adapter`` for the adapter and its conventions.

Real-vendor notes (held to Salesloft's published API definition, as tabled in the vendor
notes' ``salesloft-contract.md``; "the contract" below; the seed's operations list is a
third-party connector's and loses where they disagree):

- Endpoints. Reads: ``GET /v2/people``, ``accounts``, ``tasks``, ``cadences``,
  ``cadence_memberships``, ``steps``, ``activities/calls``, ``activities/emails``,
  ``notes``, ``crm_activities`` (by ``ids[]``), ``users``, ``me``, ``custom_fields``
  (``field_type``), ``person_stages``, ``account_stages``, ``account_tiers``,
  ``call_dispositions``, ``call_sentiments`` and ``GET <path>/{id}``. Writes: ``POST``/
  ``PUT``/``DELETE`` people and accounts, ``POST``/``PUT`` tasks (no task delete exists),
  ``POST /v2/notes``. Paths are sent without ``.json`` (the definition's form; both
  answer).
- Parameters. Filters by their documented names (``person_id[]``, ``account_id[]``,
  ``owner_id[]``, ``person_stage_id[]``, ``cadence_id`` single on memberships and steps,
  ``email_addresses[]``, ``domain``, ``name[]``, ``current_state[]``, ``task_type[]``,
  ``time_interval_filter``, ``idempotency_key``, ``associated_with_type`` +
  ``associated_with_id``). ``sort_by`` only from each list's documented values: tasks
  ``due_date``/``due_at``, users ``id``/``email``/``name``, emails
  ``updated_at``/``send_time``, steps ``created_at``/``updated_at``. Emails and calls
  have no ``account_id`` filter: an account's are its people's (``person_id[]`` of the
  account's 100 most recently updated people).
- Paging. ``page``/``per_page`` (1-100, default 25 [contract]) and
  ``include_paging_counts`` on the first page; the next page is
  ``metadata.paging.next_page`` (an integer, or in one seed sample a URL), followed only
  when it is after the page read, that page held records and it is at most page 1000.
  Incremental reads (people, accounts, cadences, calls, emails, memberships: the kinds
  with an ``updated_at`` filter) use ``updated_at[gte]=<mark>&sort_by=updated_at&
  sort_direction=ASC&page=1``, the mark moving only forward, the records already read at
  the mark left out (``[gt]`` would skip records sharing the last row's stamp past a page
  break), the next page of the same mark when a whole page sits at it. Tasks, users and steps have
  no ``updated_at`` filter: they are read whole, page by page (the sync writes only the
  records whose ``updated_at`` changed). Config lists: at most 20 pages of 100 through
  ``mapping.fetch_all`` (stops on a repeated cursor). Users come back all at once
  without ``page`` [contract]; crmtui always sends ``page``.
- Writes. ``PUT /v2/tasks/{id}`` takes subject, description, due_date, remind_at and
  ``current_state=completed`` only: the type, assignee and person are given in the create
  (``FieldSpec.on_create``), ``due_at`` is never sent, reopening is refused before
  sending. ``POST /v2/tasks`` sends the six required fields (assignee: the caller from
  ``/v2/me`` unless given; ``person_id`` as text, as declared).
- Documented limits. A cost budget of 600 a minute per team [public]; a request costs
  1, and 3/8/10/30 for ``page`` past 100/150/250/500 [public]; the limiter believes
  ``x-ratelimit-remaining-minute``. The definition itself states no rate limit.
- Assumed where the doc is silent: the ``{"data", "metadata"}`` envelope (the seed's
  samples); an undocumented parameter is ignored by the real API (so none is relied
  on); tasks sharing a ``due_date`` keep their order between pages; account
  ``custom_fields`` are sent as an object of name -> value like people's (the contract
  types them as an array of objects without their shape).
- Decided against the letter of the definition: bodies go as JSON, though the definition
  declares every body ``application/x-www-form-urlencoded``. v2 is a Rails API, which
  reads a JSON body into the same parameters, and public clients send JSON; a form
  body cannot say null (clearing a field would send ``""``, a value) nor carry the
  ``custom_fields`` object without Rails' bracket convention, which the definition does
  not declare either. The sandbox reads both.
"""

from crmtui.vendors.salesloft.adapter import Salesloft

__all__ = ["Salesloft"]
