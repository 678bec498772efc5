"""Salesloft REST API v2 as a contract (from ``vendors/salesloft-contract.md``, itself
derived from Salesloft's published OpenAPI definition; the seed's operations list is a
third-party connector's and loses where the two disagree).

Decisions where the documentation (the definition) is silent, and why:

- Paths are declared without ``.json``; the ``.json`` form answers the same (the
  definition uses ``.json``, the seed's samples and public clients call both).
- A query parameter that is not documented for the endpoint, or a documented filter given
  an operator it does not take (``updated_at[gt]`` on tasks), is **ignored**: v2 is a
  Rails API that drops unknown parameters, and the definition declares no 4xx for them.
  That is exactly why such drifts are dangerous: the filter silently does nothing.
- A ``sort_by`` (or other enumerated value) outside the documented list is refused with
  422 ``{"errors": {"sort_by": ["is invalid"]}}`` (the sandbox's validation envelope).
- A body field that is not documented for the operation is ignored (Rails strong
  parameters drop it); a documented field given a value outside its list (a task ``PUT``
  with ``current_state=scheduled``) is 422 ``{"errors": {field: ["is not included in the
  list"]}}``; a missing required field is 422 ``{"errors": {field: ["can't be blank"]}}``.
- The definition's sentinels (``_is_null``, ``_is_not_null``, ``_unmapped``, the
  operator ``[_not_in]``; :data:`RESERVED`) are taken only by the filters whose rows list
  them (each Param's ``sentinels``/``ops``); on any other parameter they are refused with
  422 ``{"errors": {name: ["is invalid"]}}`` rather than ignored, since a caller sending
  one means a filter the vendor would not run. ``last_contacted`` takes them as plain
  values (``last_contacted=_is_null``: the definition's "additional values"); people's
  ``locales`` takes the literal ``Null`` (on accounts' ``locales`` it is a plain value).
- An undocumented path, or a method not documented on a path, is 404
  ``{"error": "Not Found"}`` (Rails' routing error; the definition declares no 405).
- Every documented list parameter is applied by the sandbox, except those in
  ``IGNORED`` (each Param's ``note`` says why: the sandbox keeps nothing to apply it
  to) and ``limit_paging_counts`` (counts are always exact);
  ``tests/sandbox/test_params_applied.py`` holds this.
- People's ``starred_by_guid[]``: people starred by any of these users (an unknown guid
  matches none). The Person's one ``starred`` boolean is read as the caller's own star
  (Salesloft's app stars per user); nothing in v2 writes a star, the seed has some.
- Cadences' ``group_ids`` is one string (the definition's type): an id, ids joined with
  commas, or a JSON array string (``[1,2]`` or ``["1","2"]``); a value that is none of
  these is 422 ``{"errors": {"group_ids": ["is invalid"]}}`` (as a non-integer id
  elsewhere), a blank one filters nothing, and ``group_ids[]=`` is not the parameter
  (ignored). A cadence matches when
  one of its ``groups`` (the Cadence's ER[]) is named; a parent group does not take in
  its subgroups' cadences (no hierarchy in the filter's description).
- Emails' ``scoped_fields[]`` names the sensitive fields an e-mail shows (``subject``,
  ``error_message``: the definition's "requires a specific scope"). Unnamed, they are
  absent from the record; the sandbox's token holds the scope, so a named one is shown;
  an unknown name is ignored. ``GET /v2/activities/emails/{id}`` documents no
  parameters, so a single e-mail never shows them.
- Emails' ``personalization[]`` ("by personalization score", ``str[]``): e-mails whose
  ``personalization`` (a percentage string, ``"13.4"``) equals one of the values as a
  number (``13.40`` finds it); a value that is no number matches the same text only.
- Required fields are checked on creates only: the definition marks ``name``/``domain``
  required on the account ``PUT`` too, but a partial update is what its own prose and
  every public client do, so a ``PUT`` without them is not refused.
"""

from __future__ import annotations

from crmtui.sandbox.contract import (
    IGNORE,
    RANGE,
    Answer,
    Contract,
    Endpoint,
    Param,
    Violation,
    ignoring,
    params,
    ranged,
    sort,
)

PAGE = (
    Param("page"),
    Param("per_page"),
    Param("include_paging_counts", values=("true", "false")),
    Param("sort_direction", values=("ASC", "DESC", "asc", "desc")),
)
LIST = (
    *PAGE,
    Param(
        "limit_paging_counts",
        values=("true", "false"),
        note="ignored: paging counts are always exact; the cap it turns on (10,000"
        " records) is above every list the sandbox seeds",
    ),
)
"""``+LIST`` in the contract table: page, per_page, paging counts, sort_direction."""


def _ids(*names: str) -> tuple[Param, ...]:
    return params(*names, array=True)


NULL = "_is_null"
NOT_NULL = "_is_not_null"
UNMAPPED = "_unmapped"
NOT_IN = "_not_in"
RESERVED = (NULL, NOT_NULL, UNMAPPED, NOT_IN)
"""The definition's sentinels: a filter takes one only where its row lists it (a value
``_is_null``, an operator ``[_not_in]``); elsewhere 422 (see :func:`answer`)."""


def _nullable(name: str, *ops: str) -> Param:
    """An array filter also taking the value ``_is_null`` (records without one; with
    other values, either), and the operators in ``ops`` (``[_not_in]``: none of these)."""
    return Param(name, array=True, ops=ops, sentinels=(NULL,))


def _contacted() -> Param:
    """``last_contacted[gt|gte|lt|lte]``, or the values ``_is_null``/``_is_not_null``
    (never / ever contacted; with a range, either)."""
    return Param("last_contacted", ops=RANGE, plain=False, sentinels=(NULL, NOT_NULL))


def _get(path: str, *query: Param, source: str = "") -> Endpoint:
    return Endpoint("GET", path, query=tuple(query), source=source)


def _one(path: str) -> Endpoint:
    return Endpoint("GET", path, source="by id")


ACCOUNT_FIELDS = (
    "name",
    "domain",
    "account_tier_id",
    "company_stage_id",
    "owner_id",
    "conversational_name",
    "description",
    "phone",
    "website",
    "linkedin_url",
    "twitter_handle",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "locale",
    "industry",
    "company_type",
    "founded",
    "revenue_range",
    "size",
    "do_not_contact",
    "tags",
    "custom_fields",
    "crm_id",
    "crm_id_type",
)
PERSON_FIELDS = (
    "email_address",
    "secondary_email_address",
    "personal_email_address",
    "first_name",
    "last_name",
    "phone",
    "phone_extension",
    "home_phone",
    "mobile_phone",
    "linkedin_url",
    "twitter_handle",
    "personal_website",
    "title",
    "city",
    "state",
    "country",
    "work_city",
    "work_state",
    "work_country",
    "locale",
    "person_company_name",
    "person_company_website",
    "person_company_industry",
    "crm_id",
    "crm_id_type",
    "job_seniority",
    "account_id",
    "owner_id",
    "person_stage_id",
    "import_id",
    "do_not_contact",
    "tags",
    "contact_restrictions",
    "custom_fields",
)
TASK_TYPES = ("call", "email", "general")
INTERVALS = ("overdue", "today", "tomorrow", "this_week", "next_week")
EMAIL_STATUSES = (
    "sent",
    "sent_from_gmail",
    "sent_from_external",
    "pending",
    "pending_reply_check",
    "scheduled",
    "sending",
    "delivering",
    "failed",
    "cancelled",
    "pending_through_gmail",
    "pending_through_external",
)
BOOL = ("true", "false")

ENDPOINTS: tuple[Endpoint, ...] = (
    # -- me / team / users
    Endpoint("GET", "/v2/me", query=()),
    Endpoint("GET", "/v2/team", query=()),
    _get(
        "/v2/users",
        *_ids("ids", "guid", "role_id", "work_country"),
        _nullable("group_id"),
        Param("search"),
        Param("active", values=BOOL),
        Param("visible_only", values=BOOL),
        Param("has_crm_user", values=BOOL),
        *PAGE,  # no limit_paging_counts; all users come back without ``page``
        sort("sort_by", "id", "email", "name", "group", "role"),
    ),
    _one("/v2/users/{id}"),
    # -- accounts
    _get(
        "/v2/accounts",
        *_ids("ids", "crm_id", "tag", "tag_id", "name", "account_tier_id", "industry"),
        *_ids("country", "state", "city", "locales"),
        ranged("created_at"),
        ranged("updated_at"),
        Param("domain"),
        _nullable("website"),
        Param("archived", values=BOOL),
        _nullable("account_stage_id"),
        _nullable("owner_id"),
        Param("owner_is_active", values=BOOL),
        _contacted(),
        Param("custom_fields", ops=("*",)),
        _nullable("owner_crm_id", NOT_IN),
        Param("user_relationships", ops=("*",), sentinels=(NULL, UNMAPPED)),
        *LIST,
        sort(
            "sort_by",
            "created_at",
            "updated_at",
            "last_contacted_at",
            "account_stage",
            "account_stage_name",
            "account_tier",
            "account_tier_name",
            "name",
            "counts_people",
        ),
    ),
    Endpoint("POST", "/v2/accounts", fields=ACCOUNT_FIELDS, required=("name", "domain")),
    _one("/v2/accounts/{id}"),
    Endpoint("PUT", "/v2/accounts/{id}", fields=(*ACCOUNT_FIELDS, "archived")),
    Endpoint("DELETE", "/v2/accounts/{id}", status=(204,)),
    Endpoint(
        "POST",
        "/v2/account_upserts",
        fields=("upsert_key", "id", *ACCOUNT_FIELDS),
        required=("name", "domain"),
        choices={"upsert_key": ("id", "crm_id", "domain")},
    ),
    _get(
        "/v2/account_stages",
        *_ids("ids"),
        ranged("updated_at"),
        *LIST,
        sort("sort_by", "created_at", "updated_at", "order"),
    ),
    _one("/v2/account_stages/{id}"),
    _get(
        "/v2/account_tiers",
        *_ids("ids", "name"),
        *LIST,
        sort("sort_by", "created_at", "updated_at", "order"),
    ),
    _one("/v2/account_tiers/{id}"),
    # -- people
    _get(
        "/v2/people",
        *_ids("ids", "owned_by_guid", "owner_id", "crm_id", "account_id", "tag_id"),
        Param(
            "starred_by_guid",
            array=True,
            note="people starred by any of these users; a Person's ``starred`` is the"
            " caller's own star",
        ),
        *_ids("title", "country", "state", "city"),
        Param("locales", array=True, sentinels=("Null",)),  # "Null": no locale
        ranged("updated_at"),
        ranged("created_at"),
        _contacted(),
        _nullable("email_addresses"),
        _nullable("owner_crm_id", NOT_IN),
        Param("owner_is_active", values=BOOL),
        _nullable("person_stage_id"),
        _nullable("cadence_id"),
        _nullable("import_id"),
        _nullable("job_seniority"),
        Param("custom_fields", ops=("*",)),
        *(
            Param(name, values=BOOL)
            for name in (
                "do_not_contact",
                "can_email",
                "can_call",
                "can_text",
                "replied",
                "bounced",
                "success",
                "eu_resident",
                "new",
                "phone_number",
            )
        ),
        Param("_query", note="internal; does not work for OAuth apps"),
        *LIST,
        sort(
            "sort_by",
            "created_at",
            "updated_at",
            "last_contacted_at",
            "name",
            "title",
            "job_seniority",
            "call_count",
            "sent_emails",
            "clicked_emails",
            "replied_emails",
            "viewed_emails",
            "account",
            "cadence_stage_name",
        ),
    ),
    Endpoint("POST", "/v2/people", fields=(*PERSON_FIELDS, "autotag_date")),
    _one("/v2/people/{id}"),
    Endpoint("PUT", "/v2/people/{id}", fields=PERSON_FIELDS),
    Endpoint("DELETE", "/v2/people/{id}", status=(204,)),
    Endpoint(
        "POST",
        "/v2/person_upserts",
        fields=("upsert_key", "id", *PERSON_FIELDS),
        choices={"upsert_key": ("id", "crm_id", "email_address")},
    ),
    _get("/v2/person_stages", *_ids("ids"), *LIST, sort("sort_by", "created_at", "updated_at")),
    Endpoint("POST", "/v2/person_stages", fields=("name",), required=("name",)),
    _one("/v2/person_stages/{id}"),
    Endpoint("PUT", "/v2/person_stages/{id}", fields=("name",)),
    Endpoint("DELETE", "/v2/person_stages/{id}", status=(204,)),
    # -- cadences, memberships, steps, actions
    _get(
        "/v2/cadences",
        *_ids("ids", "owned_by_guid", "name"),
        ranged("updated_at"),
        *(Param(n, values=BOOL) for n in ("team_cadence", "shared", "people_addable", "archived")),
        Param(
            "group_ids",
            note="one string: an id, ids with commas or a JSON array string of ids;"
            " cadences shared with one of these groups directly (not via a parent);"
            " another value is 422",
        ),
        *LIST,
        sort("sort_by", "created_at", "updated_at", "name"),
    ),
    _one("/v2/cadences/{id}"),
    _get(
        "/v2/cadence_memberships",
        *_ids("ids"),
        Param("person_id"),
        Param("cadence_id"),
        ranged("updated_at"),
        Param("currently_on_cadence", values=BOOL),
        *LIST,
        sort("sort_by", "added_at", "updated_at"),
    ),
    Endpoint(
        "POST",
        "/v2/cadence_memberships",
        query=params("person_id", "cadence_id", "user_id", "step_id"),
        fields=(),
    ),
    _one("/v2/cadence_memberships/{id}"),
    Endpoint("DELETE", "/v2/cadence_memberships/{id}", status=(204,)),
    _get(
        "/v2/steps",
        *_ids("ids"),
        Param("cadence_id"),
        Param("type"),
        Param("has_due_actions", values=BOOL),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    _one("/v2/steps/{id}"),
    _get(
        "/v2/actions",
        *_ids("ids", "user_guid", "person_id", "cadence_id", "multitouch_group_id"),
        Param("step_id"),
        Param("type"),
        ranged("due_on"),
        ranged("updated_at"),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    _one("/v2/actions/{id}"),
    _get(
        "/v2/action_details/call_instructions",
        *_ids("ids"),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    _one("/v2/action_details/call_instructions/{id}"),
    Endpoint("POST", "/v2/ongoing_actions", fields=("action_id",)),
    Endpoint("POST", "/v2/activities", fields=("action_id", "task_id")),
    # -- tasks
    _get(
        "/v2/tasks",
        *_ids("ids", "user_id", "person_id", "account_id", "locale"),
        Param("current_state", values=("scheduled", "completed"), array=True),
        Param("task_type", values=TASK_TYPES, array=True),
        Param("time_interval_filter", values=INTERVALS),
        Param("idempotency_key"),
        *LIST,
        sort("sort_by", "due_date", "due_at"),
    ),
    Endpoint(
        "POST",
        "/v2/tasks",
        fields=(
            "subject",
            "person_id",
            "user_id",
            "task_type",
            "due_date",
            "current_state",
            "description",
            "remind_at",
            "idempotency_key",
        ),
        required=("subject", "person_id", "user_id", "task_type", "due_date", "current_state"),
        choices={"current_state": ("scheduled",), "task_type": TASK_TYPES},
    ),
    _one("/v2/tasks/{id}"),
    Endpoint(
        "PUT",
        "/v2/tasks/{id}",
        fields=("current_state", "subject", "description", "due_date", "remind_at", "is_logged"),
        choices={"current_state": ("completed",)},
    ),
    # -- calls
    _get(
        "/v2/activities/calls",
        *_ids("ids", "user_guid", "person_id", "sentiment", "disposition"),
        ranged("created_at"),
        ranged("updated_at"),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    Endpoint(
        "POST",
        "/v2/activities/calls",
        fields=(
            "person_id",
            "to",
            "duration",
            "disposition",
            "sentiment",
            "notes",
            "action_id",
            "crm_params",
            "linked_call_data_record_ids",
            "user_guid",
        ),
        required=("person_id",),
    ),
    _one("/v2/activities/calls/{id}"),
    _get("/v2/call_dispositions", *LIST, sort("sort_by", "name", "updated_at")),
    _get("/v2/call_sentiments", Param("name"), *LIST, sort("sort_by", "name", "updated_at")),
    Endpoint(
        "POST",
        "/v2/conversations/calls",
        fields=("to", "from", "duration", "recording", "call_created_at", "direction", "user_guid"),
        required=("to", "from", "duration", "recording"),
        status=(201,),
    ),
    _get(
        "/v2/call_data_records",
        *_ids("ids", "user_guid", "person_id"),
        Param("has_call", values=BOOL),
        ranged("created_at"),
        ranged("updated_at"),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    _one("/v2/call_data_records/{id}"),
    # -- emails
    _get(
        "/v2/activities/emails",
        *_ids("ids", "crm_activity_id", "action_id", "user_id", "cadence_id", "step_id"),
        Param(
            "scoped_fields",
            array=True,
            note="names the scoped fields shown (``subject``, ``error_message``; absent"
            " unless named, on the list only); other names are ignored",
        ),
        *_ids("person_id", "email_addresses"),
        Param(
            "personalization",
            array=True,
            note="the Email's ``personalization`` (a percentage string, ``13.4``) is one"
            " of these, compared as numbers",
        ),
        ranged("updated_at"),
        ranged("sent_at"),
        Param("bounced", values=BOOL),
        Param("status", values=EMAIL_STATUSES, array=True),
        Param("one_off", values=BOOL),
        *LIST,
        sort("sort_by", "updated_at", "send_time"),
    ),
    _one("/v2/activities/emails/{id}"),
    _one("/v2/mime_email_payloads/{id}"),
    # -- notes
    _get(
        "/v2/notes",
        Param("associated_with_type", values=("person", "account", "Person", "Account")),
        Param("associated_with_id"),
        ranged("updated_at"),
        *_ids("ids"),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    Endpoint(
        "POST",
        "/v2/notes",
        fields=(
            "content",
            "associated_with_type",
            "associated_with_id",
            "call_id",
            "skip_crm_sync",
            "subject",
            "user_guid",
        ),
        required=("content", "associated_with_type", "associated_with_id"),
    ),
    _one("/v2/notes/{id}"),
    Endpoint("PUT", "/v2/notes/{id}", fields=("content", "call_id")),
    Endpoint("DELETE", "/v2/notes/{id}", status=(204,)),
    # -- crm activities, fields, custom fields, tags
    _get(
        "/v2/crm_activities",
        *_ids("ids"),
        ranged("updated_at"),
        *LIST,
        sort("sort_by", "created_at", "updated_at"),
    ),
    _one("/v2/crm_activities/{id}"),
    _get(
        "/v2/crm_activity_fields",
        Param("source", note="schema values email, phone; the seed sample sends salesforce"),
        *LIST,
        sort("sort_by", "title", "updated_at"),
    ),
    _get(
        "/v2/custom_fields",
        *_ids("ids"),
        Param("field_type", values=("person", "company", "opportunity")),
        *LIST,
        sort("sort_by", "created_at", "updated_at", "name"),
    ),
    Endpoint(
        "POST",
        "/v2/custom_fields",
        fields=("name", "field_type"),
        required=("name",),
        choices={"field_type": ("person", "company", "opportunity")},
    ),
    _one("/v2/custom_fields/{id}"),
    Endpoint("PUT", "/v2/custom_fields/{id}", fields=("name", "field_type")),
    Endpoint("DELETE", "/v2/custom_fields/{id}", status=(204,)),
    _get("/v2/tags", Param("search"), *_ids("ids"), *LIST, sort("sort_by", "name")),
    # -- meetings, successes
    _get(
        "/v2/meetings",
        *_ids("ids", "person_ids", "event_ids", "i_cal_uids", "task_ids", "user_guids"),
        Param("status", values=("pending", "booked", "failed", "retry")),
        Param("person_id"),
        Param("account_id"),
        ranged("start_time"),
        Param("include_meetings_settings", values=BOOL),
        Param("show_deleted", values=BOOL),
        *LIST,
        sort("sort_by", "start_time", "created_at", "updated_at"),
    ),
    Endpoint("PUT", "/v2/meetings/{id}", fields=("event_id", "i_cal_uid", "no_show", "status")),
    Endpoint(
        "POST",
        "/v2/meetings/settings/searches",
        query=(*_ids("user_guids"), ranged("updated_at"), Param("calendar_type"), *LIST[:2]),
        status=(200, 403),
    ),
    Endpoint("PUT", "/v2/meetings/settings/{id}", fields=None),
    _get(
        "/v2/successes",
        *_ids("ids", "person_id"),
        ranged("updated_at"),
        *LIST,
        sort("sort_by", "created_at", "updated_at", "succeeded_at"),
    ),
    # -- bulk jobs (cursor paging, no .json)
    _get(
        "/v2/bulk_jobs",
        Param("state", values=("open", "executing", "done"), array=True),
        ranged("id", ("gt",)),
        Param("per_page"),
    ),
    Endpoint("POST", "/v2/bulk_jobs", fields=("type", "name"), required=("type",)),
    _one("/v2/bulk_jobs/{id}"),
    Endpoint("PUT", "/v2/bulk_jobs/{id}", fields=("name", "ready_to_execute")),
    *(
        _get(
            f"/v2/bulk_jobs/{{bulk_jobs_id}}/{tail}",
            Param("status", values=("pending", "success", "error", "retrying"), array=True),
            ranged("id", ("gt",)),
            Param("per_page"),
        )
        for tail in ("job_data", "results")
    ),
    Endpoint("POST", "/v2/bulk_jobs/{bulk_jobs_id}/job_data", fields=("data",), required=("data",)),
    # -- out of scope in the table but in the definition: paths known, parameters as listed
    _get(
        "/v2/activity_histories",
        *PAGE[:3],
        sort("sort_by", "occurred_at", "updated_at"),
        Param("sort_direction", values=("ASC", "DESC")),
        Param("type"),
        ranged("occurred_at"),
        ranged("updated_at"),
        Param("pinned", values=BOOL),
        Param("resource_type", values=("person", "account", "crm_opportunity")),
        *_ids("resource_id"),
        Param("user_guid"),
    ),
    _get("/v2/groups", *_ids("ids"), sort("sort_by", "created_at", "updated_at")),
    _one("/v2/groups/{id}"),
    _get(
        "/v2/crm_users",
        *_ids("ids", "crm_id", "user_id", "user_guid"),
        *LIST,
        sort("sort_by", "id", "updated_at"),
    ),
    Endpoint("GET", "/v2/imports", query=None),
    Endpoint("POST", "/v2/imports", query=None),
    Endpoint("GET", "/v2/imports/{id}", query=None),
    Endpoint("PUT", "/v2/imports/{id}", query=None),
    Endpoint("DELETE", "/v2/imports/{id}", query=(Param("undo", values=("all", "single")),)),
    Endpoint("GET", "/v2/phone_numbers/caller_ids", query=(Param("phone_number"),)),
    Endpoint("GET", "/v2/email_templates", query=None),
    Endpoint("GET", "/v2/email_templates/{id}", query=None),
    Endpoint("GET", "/v2/calendar/events", query=None),
    Endpoint("POST", "/v2/calendar/events/upsert", status=(201,)),
    Endpoint("GET", "/v2/cadence_exports/{id}", query=None),
    Endpoint(
        "POST", "/v2/cadence_imports", fields=("cadence_content", "settings", "sharing_settings")
    ),
    Endpoint("POST", "/v2/external_emails", status=(201,)),
    Endpoint("GET", "/v2/pending_emails", query=None),
    Endpoint("PUT", "/v2/pending_emails/{id}", fields=("message_id", "status")),
    Endpoint("GET", "/v2/saved_list_views", query=None),
    Endpoint("POST", "/v2/saved_list_views"),
    Endpoint("GET", "/v2/saved_list_views/{id}"),
    Endpoint("PUT", "/v2/saved_list_views/{id}"),
    Endpoint("DELETE", "/v2/saved_list_views/{id}", status=(204,)),
    Endpoint("GET", "/v2/team_templates", query=None),
    Endpoint("GET", "/v2/team_templates/{id}"),
    Endpoint("GET", "/v2/webhook_subscriptions", query=None),
    Endpoint("POST", "/v2/webhook_subscriptions"),
    Endpoint("GET", "/v2/webhook_subscriptions/{id}"),
    Endpoint("PUT", "/v2/webhook_subscriptions/{id}"),
    Endpoint("DELETE", "/v2/webhook_subscriptions/{id}", status=(204,)),
)


IGNORED = {
    ("GET /v2/people", "_query"): "internal to Salesloft's own app (the definition: it"
    " does not work for OAuth apps), its syntax undocumented",
}
"""Documented parameters the sandbox takes but does not apply, and why (each Param's
``note``; ``tests/sandbox/test_params_applied.py`` holds every other one applied)."""


def answer(v: Violation) -> Answer:
    """How v2 answers a request outside the definition (see the module docstring)."""
    if v.kind in ("path", "method"):
        return Answer(404, {"error": "Not Found"})
    if _sentinel(v):
        return Answer(422, {"errors": {v.name.split("[", 1)[0]: ["is invalid"]}})
    if v.kind == "param" or v.kind == "operator":
        return IGNORE
    if v.kind == "value" and v.name.split("[", 1)[0] == "sort_by":
        return Answer(422, {"errors": {"sort_by": ["is invalid"]}})
    if v.kind == "value":
        return Answer(422, {"errors": {v.name.split("[", 1)[0]: ["is not included in the list"]}})
    if v.kind == "required":
        return Answer(422, {"errors": {v.name: ["can't be blank"]}})
    return IGNORE  # an undocumented body field: dropped


def _sentinel(v: Violation) -> bool:
    """Whether ``v`` is a sentinel where its filter does not list it: a value
    (``ids=_is_null``) or an operator (``name[_not_in]``) of :data:`RESERVED`."""
    if v.kind == "value":
        return any(part in RESERVED for part in v.value.split(","))
    if v.kind == "operator":
        return any(f"[{word}]" in v.name for word in RESERVED)
    return False


CONTRACT = Contract(
    vendor="salesloft",
    endpoints=ignoring(ENDPOINTS, IGNORED),
    answer=answer,
    optional_suffixes=(".json",),
    notes=__doc__ or "",
    reserved=RESERVED,
)
