"""ActiveCampaign (API v3, deals): see ``adapter`` for the adapter and its conventions.

Real-vendor notes (the seed ``activecampaign-deals-api.txt`` and the vendor notes):

- Endpoints. ``GET /api/3/dealGroups`` (pipelines, with ``dealStages`` side-loaded) and
  ``dealGroups/{id}``, ``deals`` and ``deals/{id}``, ``deals/{id}/notes``,
  ``deals/{id}/contactDeals``, ``dealActivities?deal=`` (with ``filters[data_type]``,
  ``filters[data_id]``), ``dealTasks`` and ``dealTasks/{id}``, ``dealTasktypes``,
  ``dealCustomFieldMeta``, ``dealCustomFieldData``, ``users``, ``contacts`` and
  ``contacts/{id}``. Writes: ``POST``/``PUT``/``DELETE`` deals and dealTasks, ``POST
  /deals/{id}/notes``.
- Parameters. Deals: ``filters[group|stage|status|owner|organization|minimum_value|
  maximum_value|tasktype|updated_after]``, ``orders[title|value|cdate|contact_name|
  contact_orgname|next-action]``; tasks: ``filters[reltype]``, ``filters[relid]``,
  ``filters[duedate_range]``...; ``search`` on contacts.
- Paging. ``limit``/``offset`` (``limit`` at most 100 [public]), the end told by
  ``meta.total`` or a short page; the cursor is the next offset plus the last id read,
  and a page ending on that id (a vendor ignoring ``offset``) ends the read. Whole
  collections (config lists, a deal's activities, notes and tasks) go through
  ``mapping.fetch_all`` (bounded, stops on a repeated cursor).
- Timeline text. ``dealActivities[].dataId`` is the id of the related object (a note,
  task or contact; the seed's "291 for a note with ID 291"; public connectors type it
  as an integer), ``dataOldval`` the value before a change. The API gives no new value
  of a changed title, amount or status: it is read as the next change's ``dataOldval``,
  or the deal's own value (``GET /deals/{id}``) for the latest.
- Documented limits. 5 requests a second per account [public], sent evenly (burst 1);
  429 (sometimes 503) past it, retried after ``Retry-After``.
- Assumed where the doc is silent: ``meta.total`` may be text or a number; the
  dealActivities vocabulary beyond the seed's (stage, status, value, title changes) is
  read as the sandbox writes it, anything else shown as "<dataType> <dataAction>"; a
  stray 403 on a read is retried once (public reports).
"""

from crmtui.vendors.activecampaign.adapter import ActiveCampaign

__all__ = ["ActiveCampaign"]
