"""ActiveCampaign sandbox: the deals part of API v3 (``/api/3``), as the seed documents it.

Modules: ``data`` (the account's records and their side effects), ``common`` (the call a
handler gets, errors, paging), ``deals``, ``pipelines``, ``tasks``, ``customfields``,
``people`` (endpoints), ``contract`` (every documented endpoint), ``app`` (the sandbox
declared on the shared kit: a handler per contract endpoint, auth, rate limit,
``create_app``).

Decisions where the documentation is silent (see the vendor notes):

- Auth: ``Api-Token: sandbox`` (user 1). A missing or unknown key is 403
  ``{"message": "Forbidden"}``, as v3 answers; the ``expire`` fault refuses the next
  request once the same way (AC keys do not expire; AC sends stray 403s under load).
- Rate limit: 5 requests per 1 s fixed window per account; 429 ``{"message": "Too Many
  Requests"}`` with ``Retry-After`` in whole seconds; ``RateLimit-Limit`` and
  ``RateLimit-Remaining`` on every answer to a known key. Every key of the account
  shares the window (AC limits the account, not the user). The 503 some clients report when throttled
  is only a fault (``Faults(next=["503"])``).
- Paging: ``limit`` (default 20, at most 100) and ``offset``; ``meta.total`` is a
  string except on ``/deals`` and ``/contacts/{id}/deals`` (a number, with
  ``meta.currencies`` on ``/deals``). Default order: id ascending; dealActivities come
  newest first. Unknown filters and orders are ignored; a non-integer where the seed
  says integer is 400 ``{"message": "Bad Request"}``, as is a body that is not JSON.
- Status codes: seed first. ``POST /deals`` and ``POST /dealTasks`` 201, other POSTs
  and GET/PUT/PATCH 200 (the seed's 201 on task GET/PUT is a documentation artefact),
  DELETE 200 with an empty body, missing ids 404 ``{"message": "No Result found for
  <Entity> with id <id>"}`` (custom field meta/data: ``{"errors": [{"status": 404,
  "title": "Not Found"}]}``). Validation errors use the v3 ``errors`` array (title,
  detail, code field_missing|field_invalid|related_missing, source.pointer), with 422
  where the seed lists 422 and for deals (public v3), 400 where the seed lists only 400
  (stages, pipelines, tasks, task types, roles). Bulk custom-field writes answer 422 on
  a bad item (the seed lists only 200).
- ``PUT /deals/{id}`` (not in the seed) follows the public reference: partial; a stage
  alone must belong to the deal's pipeline (422 otherwise); a pipeline alone puts the
  deal in its first stage. The close date is the built-in "Forecasted Close Date"
  custom field, written through ``fields`` or ``/dealCustomFieldData``.
- ``filters[minimum_value|maximum_value]`` are whole dollars (values are cents);
  ``filters[nextdate_range]``: upcoming = next task due within 7 days, scheduled = due
  from now on, overdue = due before now, no-task; ``filters[tag]`` takes a tag id (or
  name), -1 any, -2 none; ``filters[score*]`` take ``<score id>:<value>`` (score 1).
  Task ``filters[duedate_range]`` takes ``YYYY-MM-DD+YYYY-MM-DD`` or
  upcoming|scheduled|overdue (open tasks); both ``filters[due_before]`` and the
  documented ``Fitlers[due_before]`` work.
- Deal activities (``dataType``/``dataAction``): created ``""``/add, secondary contact
  ``contact``/add, stage ``d_stageid``/update, owner ``userid``/update, status
  ``status``/update, value ``value``/update, title ``title``/update, note ``note``/add,
  task ``task``/add (``isAddtask`` "1"), ``task``/complete, ``task``/update,
  ``task``/delete, logged email ``email``/send. ``dataId`` is always the id of the
  related object, as the seed documents it ("291 for a note with ID 291") and public
  connectors type it (an integer): the note, task or contact; the new stage of a stage
  change and the new owner (user) of an owner change; the deal itself for a status,
  value or title change. ``dataOldval`` is the value before the change; the API gives
  no new value (decision: a client reads it from the next change or the deal).
- Task writes on a deal bump the deal's ``mdate`` and keep ``nextdate``/``nexttaskid``
  current; a new ``duedate`` without ``edate`` keeps the task's duration. Task
  ``status`` is a number in lists and a string in single-task answers, as v3 does.
- Moving a stage's deals answers ``{"deals": [...]}``; deleting a stage moves its deals
  to the pipeline's first remaining stage; deleting a pipeline deletes its stages and
  deals; a new pipeline gets the stages To Contact, In Contact, Follow Up; deleting a
  task type that tasks use is 403.
- Extensions outside the seed (public v3, read-mostly): ``/users``, ``/users/{id}``,
  ``/users/me``, ``/contacts`` (``search``, ``email``), ``/contacts/{id}``, ``/accounts``,
  ``/accounts/{id}``, ``/notes/{id}``, ``/deals/{id}/notes`` (GET, POST 201, PUT), the
  deal's other ``links`` (``contactDeals``, side-loading ``contacts``; ``tasks``,
  ``dealCustomFieldData``, ``contact``, ``owner``, ``group``, ``stage``, ``nextTask``)
  and the API root ``/api/3/`` (a connection check, ``{}``; see ``contract.py``).
- Timestamps are ISO 8601 in the account zone (America/Chicago), whole seconds.
- A contactDeal carries ``cdate``, ``created_timestamp``/``updated_timestamp`` and
  ``created_by``/``updated_by`` (no ``udate``), as public connectors' schemas of the real
  one have it (the seed shows no body).
"""

from crmtui.sandbox.activecampaign.app import create_app

__all__ = ["create_app"]
