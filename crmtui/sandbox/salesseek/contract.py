"""SalesSeek API as a contract, from the seed (``salesseek-api.txt``: every "Request URL"
with its method and its "Request Query Parameters" table, and the JSON error body).

Decisions where the documentation is silent, and why:

- Paths answer with or without a trailing ``/`` (the seed writes both:
  ``POST /api/individuals/`` beside ``GET /api/individuals``).
- The login is a form: form-encoded as the seed says, or ``multipart/form-data`` as
  public clients post it (a server's form reader takes both). The checker reads only
  url-encoded and JSON bodies, so the sandbox checks a multipart login's fields itself.
- ``POST /api/<type>/filters`` is the filter create for every type, also where
  ``POST /api/<type>/{id}`` is the documented update (individuals, custom fields): the
  filter endpoints are declared first, so ``filters`` is not read as an id.
- Lists take ``rows``, ``start`` and ``order_by`` (``"<field> asc|desc"``, free field
  names as the seed's examples use several) and, where the seed says so, ``search``.
  ``filter`` is documented on custom fields only (``filter=view=<type>``); record lists
  filter through saved filters (``/api/<type>/filters``).
- A query parameter the seed does not list for the endpoint is **ignored** (the seed
  declares no error for one).
- An undocumented path answers 404 ``{"detail": "Not found"}``, an undocumented method
  405 ``{"detail": "Method not allowed"}`` (the seed's JSON error body).
- ``GET /api/users`` (a list), ``/api/funnels`` and ``/api/phases`` are not in the seed
  (only ``/api/users/{id}`` is): answered as any undocumented path or method (404; 405
  for ``GET /api/users``, whose ``POST`` is documented). ``search`` on opportunities is
  not in the seed either: ignored as any undocumented parameter (the whole list comes
  back), as the real API would.

Body fields (``fields`` per write endpoint), from each section's attribute table, its
"Request Body Parameters" and its sample bodies:

- The seed says of every PATCH "You can pass any attribute to update": the writable
  fields are the section's attributes less those it calls generated or that the server
  keeps (``id``, ``created``, ``modified``, ``creator_id``, ``last_modified_by_id``,
  ``last_viewed``, the expanded objects ``creator``/``owner``/``organization``/``funnel``/
  ``phase``/``related``, an organization's or deal's ``abbreviation`` ("system
  generated", "derived from the deal name"), an individual's ``full_name`` and
  ``organization_name``, a deal's ``phase_name``, ``weighted_value``,
  ``bubble_representation_value``, ``phase_last_changed``, ``latest_activity_in_days``,
  ``generated_files``, a task's ``complete_date``, a user's ``preferences`` ("not
  editable via the API"), ``ical_url``). A create takes the same fields.
- ``custom_fields`` (the attribute the samples name ``custom_fields``; the tables write
  ``custom_field.{custom_field_id}``) is one object keyed by definition id.
- Required, where the seed says nothing: what names the record (an organization's and a
  deal's ``name``, a task's ``text``, a tag's ``name``); an individual needs a first or a
  last name (``any_of``). Where it lists "Request Body Parameters" (login, password
  reset, group create) those are required; a custom field needs ``name``, ``type`` and
  ``view``; an activity its ``activity_type``, ``item_type`` and ``item_id`` (the
  sample's), a user its ``email_address`` and ``name`` (the sample's).
- Enums are the documented values in the wire spelling the samples use: a deal's
  ``status`` ``none``/``none_upside``/``committed_downside``/``committed`` (the table's
  "None, None Upside, ..." in the sample's ``"none"`` form); a task's ``related_type`` the
  singular record type (``organization``, ``individual``, ``opportunity`` as in the
  create sample; ``deal`` as the table says); an activity's ``item_type`` the plural
  (``opportunities``, ``organizations``, ``individuals``) and ``activity_type`` ``note`` or
  one of the "Activity Types".
- A field outside the list is **ignored** (the server updates "the only fields ...
  passed", and names no error for another); a missing required field is 400
  ``{"detail": "<field> is required"}``, a value outside its enum 400 ``{"detail":
  "<field> must be one of: ..."}``.
"""

from __future__ import annotations

from crmtui.sandbox.contract import (
    IGNORE,
    Answer,
    Contract,
    Endpoint,
    Param,
    Violation,
    params,
)

LIST = (Param("rows"), Param("start"), Param("order_by"))
SEARCH = Param("search")
# an activity list's category flags (``notes=true``...) and the flags that add the
# activities of related records (the Activity API's query parameters)
CATEGORY_FLAGS = (
    "notes",
    "communications",
    "contact_updates",
    "deals",
    "campaign_emails",
    "automation_emails",
)
INCLUDE_FLAGS = ("include_ind_related", "include_org_related", "include_deal_related")
ACTIVITY_QUERY = (*LIST, *params(*CATEGORY_FLAGS, *INCLUDE_FLAGS, "item_type", "item_id"))


def _crud(
    kind: str,
    update: str,
    query: tuple[Param, ...],
    fields: tuple[str, ...],
    *,
    required: tuple[str, ...] = (),
    any_of: tuple[tuple[str, ...], ...] = (),
    choices: dict[str, tuple[str, ...]] | None = None,
    source: str = "",
) -> tuple[Endpoint, ...]:
    api = f"/api/{kind}"
    rules = choices or {}
    return (
        Endpoint("GET", api, query=query, source=source),
        Endpoint(
            "POST",
            api,
            fields=fields,
            required=required,
            any_of=any_of,
            choices=rules,
            status=(200, 201),
            source=source,
        ),
        Endpoint("GET", f"{api}/{{id}}", source=source),
        Endpoint(update, f"{api}/{{id}}", fields=fields, choices=rules, source=source),
        Endpoint("DELETE", f"{api}/{{id}}", source=source),
    )


# what organizations, individuals and deals share (their attribute tables)
COMMON = ("owner_id", "comments", "tags", "related_file_ids", "is_favorite", "custom_fields")
ORGANIZATION = ("name", "communication", "locations", *COMMON)
INDIVIDUAL = (
    "first_name",
    "last_name",
    "photo_url",
    "role",
    "organization_id",
    "communication",
    "locations",
    "unsubscribed_all",
    "source_id",
    *COMMON,
)
DEAL = (
    "name",
    "organization_id",
    "funnel_id",
    "phase_id",
    "weight",
    "status",
    "value",
    "currency",
    "expected_close_date",
    "buckets",
    *COMMON,
)
FORECAST = ("none", "none_upside", "committed_downside", "committed")
TASK = (
    "text",
    "due_date",
    "assignee_id",
    "owner_id",
    "related_type",
    "related_id",
    "completed",
    "tags",
)
RELATED_TYPES = ("organization", "individual", "opportunity", "deal")
ACTIVITY = ("note", "created", "target_date", "activity_type", "item_type", "item_id", "tags")
ACTIVITY_TYPES = (
    "note",
    "auto:organization_import",
    "auto:individual_import",
    "auto:opportunity_import",
    "auto:organization_creation",
    "auto:individual_creation",
    "auto:opportunity_creation",
    "archive:email",
    "archive:mailshot_sent",
    "archive:mailshot_opened",
    "automation:archive:mailshot_url_clicked",
    "automation:archive:mailshot_sent",
    "auto:call",
    "task:completed",
)
ITEM_TYPES = ("opportunities", "organizations", "individuals")
ELEMENT_TYPES = ("individuals", "organizations", "opportunities", "tasks")
GROUP = (
    "name",
    "group_type",
    "element_type",
    "locked",
    "comments",
    "mailing_list",
    "owner_id",
    "filter_id",
    "columns",
    "display_options",
)
CAMPAIGN = (
    "name",
    "status",
    "subject",
    "campaign_type",
    "to_group_id",
    "to_group",
    "include_signature",
    "campaign_schedule_id",
    "campaign_schedule",
    "track",
    "owner_id",
    "from_user_id",
    "from_user",
    "content",
)
CAMPAIGN_CHOICES = {
    "status": ("draft", "ready", "scheduled", "sent"),
    "campaign_type": ("direct", "campaign"),
}
CUSTOM_FIELD = (
    "name",
    "type",
    "view",
    "required",
    "options",
    "value",
    "order",
    "default",
    "params",
)
CUSTOM_FIELD_CHOICES = {
    "type": (
        "text",
        "dropDown",
        "checkbox",
        "currency",
        "date",
        "individual",
        "number",
        "organization",
        "paragraph",
        "url",
        "urlImage",
    ),
    # the table's "organizartions" is a typo; "deals" is how the list filter names them
    "view": ("individuals", "organizations", "opportunities", "deals"),
}
USER = (
    "name",
    "email_address",
    "is_admin",
    "email_signature",
    "password_reset_required",
    "notification_settings",
    "quota",
)

ENDPOINTS: tuple[Endpoint, ...] = (
    # the table names ``email_address``, the sample body ``email``: either is taken
    Endpoint(
        "POST",
        "/api/login",
        fields=("email_address", "email", "password"),
        required=("password",),
        any_of=(("email_address", "email"),),
        source="Authentication > Login (Request Body Parameters)",
    ),
    Endpoint("DELETE", "/api/logout", source="Authentication > Logout"),
    Endpoint(
        "POST",
        "/api/forgotten",
        fields=("email_address", "callback_url"),
        required=("email_address",),
        source="Authentication > Request Password Reset (Request Body Parameters)",
    ),
    Endpoint(
        "POST",
        "/api/reset",
        fields=("user_id", "token", "password"),
        required=("user_id", "token", "password"),
        source="Authentication > Complete Password Reset (Request Body Parameters)",
    ),
    # before the record types: ``POST /api/individuals/filters`` creates a filter, it is
    # not an update of an individual whose id is "filters" (ids are UUIDs)
    Endpoint("GET", "/api/{record_type}/filters/{id}", source="Filter API > Get Filter"),
    Endpoint(
        "POST",
        "/api/{record_type}/filters",
        fields=("filter_type", "rules"),
        required=("rules",),
        choices={"filter_type": ELEMENT_TYPES},
        status=(200, 201),
        source="Filter API > Filter Attributes, Create Filter",
    ),
    *_crud(
        "organizations",
        "PATCH",
        (*LIST, SEARCH),
        ORGANIZATION,
        required=("name",),
        source="Organization API > Organization Attributes",
    ),
    *_crud(  # the seed updates individuals by POST
        "individuals",
        "POST",
        (*LIST, SEARCH),
        INDIVIDUAL,
        any_of=(("first_name", "last_name"),),
        source="Individual API > Individual Attributes",
    ),
    *_crud(
        "opportunities",
        "PATCH",
        LIST,
        DEAL,
        required=("name",),
        choices={"status": FORECAST},
        source="Deal API > Deal Attributes",
    ),
    *_crud(
        "tasks",
        "PATCH",
        (*LIST, SEARCH),
        TASK,
        required=("text",),
        choices={"related_type": RELATED_TYPES},
        source="Task API > Task Attributes, Create Task",
    ),
    # created with ``POST /api/groups`` (the seed's URL for it is a copy of the filter's)
    Endpoint("GET", "/api/groups", query=(*LIST, Param("element_type")), source="Group API"),
    Endpoint(
        "POST",
        "/api/groups",
        fields=GROUP,
        required=("name", "group_type", "element_type"),
        choices={"group_type": ("static", "smart"), "element_type": ELEMENT_TYPES},
        status=(200, 201),
        source="Group API > Create Group (Request Body Parameters)",
    ),
    Endpoint("GET", "/api/groups/{id}", source="Group API"),
    Endpoint("PATCH", "/api/groups/{id}", fields=GROUP, source="Group API > Update Group"),
    Endpoint("DELETE", "/api/groups/{id}", source="Group API"),
    Endpoint(
        "PUT",
        "/api/groups/{id}/items/{record_id}",
        fields=(),
        source="Group API > Add Record to Static Group",
    ),
    Endpoint(
        "GET",
        "/api/group_pages",
        query=(Param("item_type"), Param("group_id"), Param("columns"), *LIST),
        source="Group Page API",
    ),
    # a campaign is created, test-sent (``?test=<email>``) and sent (``?send``) by POST
    Endpoint("GET", "/api/campaigns", query=(*LIST, Param("status")), source="Campaign API"),
    Endpoint(
        "POST",
        "/api/campaigns",
        query=(Param("test"), Param("send")),
        fields=CAMPAIGN,
        choices=CAMPAIGN_CHOICES,
        status=(200, 201),
        source="Campaign API > Send Campaign Test, Set Campaign Live (Request Body Parameters)",
    ),
    Endpoint("GET", "/api/campaigns/{id}", source="Campaign API"),
    Endpoint(
        "PATCH",
        "/api/campaigns/{id}",
        fields=CAMPAIGN,
        choices=CAMPAIGN_CHOICES,
        source="Campaign API > Campaign Attributes, Update Campaign",
    ),
    Endpoint("DELETE", "/api/campaigns/{id}", source="Campaign API"),
    Endpoint("GET", "/api/activities", query=ACTIVITY_QUERY, source="Activity API"),
    Endpoint(
        "POST",
        "/api/activities",
        fields=ACTIVITY,
        required=("activity_type", "item_type", "item_id"),
        choices={"activity_type": ACTIVITY_TYPES, "item_type": ITEM_TYPES},
        status=(200, 201),
        source="Activity API > Create Activity (sample body), Activity Types",
    ),
    Endpoint("GET", "/api/activities/{id}", source="Activity API"),
    Endpoint(
        "PATCH",
        "/api/activities/{id}",
        fields=("note", "created", "target_date", "tags"),
        source="Activity API > Update Activity",
    ),
    Endpoint("DELETE", "/api/activities/{id}", source="Activity API"),
    # "The only value that can be updated for tags via the API is the Tag name"
    *_crud("tags", "PATCH", LIST, ("name",), required=("name",), source="Tag API"),
    *_crud(
        "custom_fields",
        "POST",
        (*LIST, Param("filter")),
        CUSTOM_FIELD,
        required=("name", "type", "view"),
        choices=CUSTOM_FIELD_CHOICES,
        source="Custom Field API > Custom Field Attributes, Create Custom Field",
    ),
    Endpoint("GET", "/api/users/{id}", source="User API > Get User"),
    Endpoint(
        "POST",
        "/api/users",
        fields=USER,
        required=("email_address", "name"),
        status=(200, 201),
        source="User API > User Attributes, Create User",
    ),
    Endpoint("PATCH", "/api/users/{id}", fields=USER, source="User API > Update User"),
    Endpoint("DELETE", "/api/users/{id}", source="User API > Delete User"),
)


def answer(v: Violation) -> Answer:
    """How SalesSeek answers a request outside the contract (module docstring)."""
    if v.kind == "path":
        return Answer(404, {"detail": "Not found"})
    if v.kind == "method":
        return Answer(405, {"detail": "Method not allowed"})
    if v.kind == "required":
        return Answer(400, {"detail": f"{v.name} is required"})
    if v.kind == "value":  # SalesSeek's parameters take any value: a body field's enum
        return Answer(400, {"detail": v.rule})
    return IGNORE  # an undocumented parameter or body field: dropped


CONTRACT = Contract(
    vendor="salesseek",
    endpoints=ENDPOINTS,
    answer=answer,
    optional_suffixes=("/",),
    notes=__doc__ or "",
)
