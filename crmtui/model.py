"""The neutral model every layer speaks: records, activities, field specs, edits, pages.

Field values inside ``Record.fields`` are JSON primitives so that the cache, the outbox
and the UI all agree on one representation:

=============  ===========================================  ==================
FieldType      value in ``fields``                          example
=============  ===========================================  ==================
text           ``str``                                      ``"Acme renewal"``
number         ``int | float``                              ``12``
money          ``str`` holding a Decimal in major units     ``"1250.00"``
date           ``str`` ISO date                             ``"2026-12-01"``
datetime       ``str`` ISO 8601 in UTC with offset          ``"2026-11-23T09:30:00.123+00:00"``
bool           ``bool``                                     ``True``
choice         ``str`` (the choice's value, e.g. a stage id)  ``"1002"``
multi_choice   ``list[str]``                                ``["vip", "renewal"]``
user           ``str`` (a user id)                          ``"7"``
=============  ===========================================  ==================

``crmtui.fields`` parses, validates and formats values by their ``FieldSpec``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Kind(StrEnum):
    """What a record is. The core kinds first, then vendor-specific ones."""

    CONTACT = "contact"
    COMPANY = "company"
    DEAL = "deal"
    TASK = "task"
    ACTIVITY = "activity"
    USER = "user"
    # Vendor-specific kinds (each vendor says which it has in ``Vendor.kinds()``).
    LEAD = "lead"
    APPOINTMENT = "appointment"
    PIPELINE = "pipeline"
    CADENCE = "cadence"
    LIST = "list"
    LIST_ITEM = "list_item"
    GROUP = "group"
    CAMPAIGN = "campaign"
    CALL = "call"
    EMAIL = "email"


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    USER = "user"


class ActivityType(StrEnum):
    NOTE = "note"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    TASK_EVENT = "task_event"
    STAGE_CHANGE = "stage_change"
    OTHER = "other"


class _Model(BaseModel):
    # Each model's validator is built when first used, not at import: a start that only
    # reads records from the cache (``model_construct``) builds none of them.
    model_config = ConfigDict(frozen=False, extra="forbid", defer_build=True)


def whole_text(text: str) -> str:
    """``text`` with each lone surrogate made U+FFFD (a pair joined into its character).

    Decision: user text is data, kept as near as it can be. A lone surrogate (a notebook's
    ``"\\ud800"``) is half a character that no UTF-8 write takes (the cache, the outbox,
    the vendor's JSON), so it is replaced where user text enters, as the HTTP client
    replaces it in a write and reads it in a reply (``crmtui.http.client``): an edit or a
    note holding one is queued and sent with U+FFFD, never refused for it."""
    if text.isascii():  # a flag, not a scan: the common case costs nothing
        return text
    try:  # a long text a slice at a time: a thread checking 20 MB lets others run
        for start in range(0, len(text), _WHOLE_SLICE):
            text[start : start + _WHOLE_SLICE].encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


_WHOLE_SLICE = 1 << 18  # characters checked in one go by ``whole_text``


def _whole_values(value: Any) -> Any:
    """A change's value (text, a list of choices) with ``whole_text``."""
    if isinstance(value, str):
        return whole_text(value)
    if isinstance(value, list):
        return [_whole_values(v) for v in value]
    return value


def _shown_text(value: Any) -> Any:
    """A title made of a vendor's value: null shows as "", a number or an object as its
    text, so one odd value never fails a record (or its page)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


class Choice(_Model):
    """One option of a choice field: the value sent to the vendor and the label shown."""

    value: str
    label: str
    color: str | None = None  # a theme colour name for stages and statuses, when known
    group: str | None = None  # e.g. the pipeline a stage belongs to
    # "won" / "lost": choosing this stage closes the record so (a vendor whose won and
    # lost are stages of the pipeline declares it on those stages); None: an open step.
    outcome: str | None = None
    # A user's (the choices of a ``FieldType.USER`` field, ``mapping.UserShape``): the
    # email and the role the vendor gives, shown on the user's card (enter on an owner).
    email: str | None = None
    role: str | None = None


class FieldSpec(_Model):
    """A field of a kind: how to show it, whether it can be written, and its choices."""

    key: str
    label: str
    type: FieldType = FieldType.TEXT
    writable: bool = False
    required: bool = False
    # False: sent empty, the vendor keeps the old value (or refuses it), so emptying the
    # field is refused before it is queued rather than "saved" and silently reverted.
    clearable: bool = True
    # Given when the record is created, never changed after (``writable`` is False): the
    # vendor takes it only in a create (a Salesloft task's person, owner and type).
    on_create: bool = False
    custom: bool = False
    choices: list[Choice] = Field(default_factory=list)
    # MULTI_CHOICE: its choices are the vendor's users (a field holding several users,
    # picked and opened as an owner is)
    users: bool = False
    # For number/money: bounds; for text: max length. None means unbounded.
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    # For number/money: the most decimals the vendor keeps (0: whole numbers only; money:
    # on top of the currency's own). None: no limit of the vendor's.
    decimals: int | None = None

    def choice(self, value: Any) -> Choice | None:
        for choice in self.choices:
            if choice.value == str(value):
                return choice
        return None

    def choice_label(self, value: Any) -> str | None:
        choice = self.choice(value)
        return choice.label if choice else None


class RecordRef(_Model):
    """Which record: unique across the whole app."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str
    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.profile}/{self.kind}/{self.id}"


class RelatedRef(_Model):
    kind: str
    id: str
    title: str
    _title = field_validator("title", mode="before")(_shown_text)


class Record(_Model):
    """One record of any kind, from any vendor."""

    vendor: str
    profile: str
    kind: str
    id: str
    title: str
    subtitle: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    remote_url: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    _titles = field_validator("title", "subtitle", mode="before")(_shown_text)
    # Related records shown on the record screen: label -> references (with titles).
    related: dict[str, list[RelatedRef]] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict)
    # Only some fields (e.g. a search hit): never replaces a fuller cached record.
    partial: bool = False
    # Reference fields (``KindInfo.references``) as shown: field key -> the referenced
    # record's title, or ``#id (not in cache)``. Filled by the service as it reads records
    # (``crmtui.service.references``); never stored, never sent.
    _names: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def ref(self) -> RecordRef:
        return RecordRef(profile=self.profile, kind=self.kind, id=self.id)

    @property
    def names(self) -> dict[str, str]:
        """The reference fields' values by name (see ``_names``); empty until resolved."""
        return self._names

    def __eq__(self, other: object) -> bool:
        """Equal as data: the names read for display (``names``) are not compared, so a
        record read for a screen equals the same record read elsewhere."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


class Activity(_Model):
    """One entry of a record's timeline."""

    id: str
    type: ActivityType = ActivityType.OTHER
    occurred_at: datetime
    summary: str
    body: str = ""
    who: str = ""
    # Vendor-specific family used by timeline filters (e.g. SalesSeek "communication").
    family: str = ""
    links: list[RelatedRef] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict)
    # The vendor cannot list it back (e.g. a SalesforceIQ event): the cache keeps it.
    kept: bool = False


class Role(StrEnum):
    """What a field means to the app, whatever the vendor calls it.

    A kind declares its roles in ``KindInfo.roles`` (role -> field key); the board, the
    row colours, My day and the record screen read a field through its role only, so a
    vendor naming its fields its own way keeps them. ``tests/vendors/test_roles.py``
    checks every declared role names a field of the kind, of the type below.
    """

    TITLE = "title"  # text: what the record's title is made of (a name, a subject)
    AMOUNT = "amount"  # money or number: the value a board column sums
    CURRENCY = "currency"  # choice or text: the ISO code of the kind's money fields
    PIPELINE = "pipeline"  # choice: the group the STAGE choices belong to
    STAGE = "stage"  # choice: the step of the pipeline (a board's columns)
    STATUS = "status"  # choice: "open" / "won" / "lost" colour the row (other values don't)
    OWNER = "owner"  # user: who owns the record
    DUE = "due"  # datetime or date: when a task is due (My day lists the kind)
    DUE_DATE = "due_date"  # date: read when DUE is empty (a vendor keeping both)
    DONE = "done"  # bool, or a choice whose ``KindInfo.done_values`` mean done


class FollowRule(StrEnum):
    """How a field follows an edit of another (``Follow``)."""

    VALUE = "value"  # takes ``Follow.to`` (when the edited value is ``Follow.when``)
    NAME = "name"  # the name of the record the edited reference now points at
    DAY = "day"  # a moment moved to the day the edited date now holds, its time of day kept


class Follow(_Model):
    """A field the vendor changes along with an edit of another (a task's status when it
    is marked done, its due moment when its due date moves, an organization's name when
    the organization changes): the optimistic record shows it at once while the edit is
    queued, as the vendor will (it is never sent)."""

    field: str  # the edited field
    sets: str  # the field the vendor changes with it
    rule: FollowRule = FollowRule.VALUE
    when: Any = None  # VALUE: only when ``field`` is given this value (None: any)
    to: Any = None  # VALUE: the value ``sets`` takes


class KindInfo(_Model):
    """A kind as a vendor offers it, in the vendor's own words."""

    kind: str
    label: str  # the tab's name, e.g. "Sales Accounts"
    singular: str  # e.g. "Sales Account"
    columns: list[str] = Field(default_factory=lambda: ["title"])
    sortable: list[str] = Field(default_factory=lambda: ["title", "updated_at"])
    searchable: bool = True
    editable: bool = False
    creatable: bool = False
    deletable: bool = False
    has_timeline: bool = False
    # Vendor views/filters offered as quick filters: value -> label.
    views: dict[str, str] = Field(default_factory=dict)
    # The choice field whose choices are a board's columns, one board per ``Choice.group``
    # (e.g. deal stages grouped by pipeline). None: the kind has no board.
    board_field: str | None = None
    # The ``Query.filters`` the vendor's list takes, as specs (label, type; empty choices
    # mean "the choices of the kind's field with the same key"). A key that is also a
    # field key filters the cache by exact value too; others are vendor-side only.
    filters: list[FieldSpec] = Field(default_factory=list)
    # Timeline filters the vendor documents, in its order: ``Activity.family`` -> label.
    families: dict[str, str] = Field(default_factory=dict)
    # Shown in the timeline pane when ``has_timeline`` is False: why, in the vendor's words.
    timeline_note: str = ""
    # The fields whose changes the vendor's own timeline records (an entry per change);
    # a sent edit of any other field stays in the record's timeline as sent by crmtui.
    timeline_fields: list[str] = Field(default_factory=list)
    # What the app reads by meaning: role -> the key of the kind's field playing it.
    roles: dict[Role, str] = Field(default_factory=dict)
    # When ``Role.DONE`` is a choice field: its values that mean done.
    done_values: list[str] = Field(default_factory=list)
    # Fields holding another record's id: field key -> the kind it points at.
    references: dict[str, str] = Field(default_factory=dict)
    # The views My day refreshes for a kind with ``Role.DUE`` (its overdue and due-today
    # views); empty: it refreshes the kind's first page.
    day_views: list[str] = Field(default_factory=list)
    # Won/Lost where the vendor keeps the outcome apart from the stage: outcome ("won",
    # "lost") -> the values an edit sets (``{"status": "won"}``). Empty: the outcome is
    # the pipeline's stage whose ``Choice.outcome`` it is.
    outcome_values: dict[str, dict[str, str]] = Field(default_factory=dict)
    # The field saying why a record was lost (asked when it is marked lost), and whether
    # the vendor requires it then.
    lost_reason: str | None = None
    lost_reason_required: bool = False
    # Why the board offers no Won/Lost, in the vendor's words ("" when it does).
    outcome_note: str = ""
    # The fields the vendor changes along with an edit, shown at once while it is queued.
    follows: list[Follow] = Field(default_factory=list)
    # A create needs at least one field of each group (Freshsales: a contact needs an
    # email or a mobile number), checked before it is queued.
    create_needs: list[list[str]] = Field(default_factory=list)

    def role(self, role: Role) -> str | None:
        """The key of the field playing ``role`` (None: the kind has no such field)."""
        return self.roles.get(role)

    def is_done(self, fields: dict[str, Any]) -> bool:
        """Whether a record's ``fields`` say it is done, by the kind's ``Role.DONE``."""
        key = self.roles.get(Role.DONE)
        if key is None:
            return False
        value = fields.get(key)
        if self.done_values:
            return value is not None and str(value) in self.done_values
        return value is True


class Query(_Model):
    """What a list asks the vendor for."""

    search: str = ""
    sort: str | None = None
    descending: bool = False
    view: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)
    cursor: str | None = None  # opaque, from the previous Page.next_cursor
    per_page: int = 100
    updated_since: datetime | None = None


class Page(_Model):
    records: list[Record]
    total: int | None = None
    next_cursor: str | None = None
    # How many records each of the kind's views holds, when the vendor says (view -> n).
    view_counts: dict[str, int] = Field(default_factory=dict)


class ChangeOp(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ChangeState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"  # transient; retried at next_retry_at
    REJECTED = "rejected"  # the vendor said no; the user edits or discards
    CONFLICT = "conflict"  # the server moved since the edit was based
    UNCERTAIN = "uncertain"  # may have reached the vendor, no check can tell: the user decides


class Change(_Model):
    """One queued edit of one record (see the outbox rules in the README)."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    ref: RecordRef
    op: ChangeOp = ChangeOp.UPDATE
    values: dict[str, Any] = Field(default_factory=dict)
    base: dict[str, Any] = Field(default_factory=dict)
    base_updated_at: datetime | None = None
    idempotency_key: str = Field(default_factory=lambda: uuid.uuid4().hex)
    state: ChangeState = ChangeState.PENDING
    last_error: str | None = None
    attempts: int = 0
    next_retry_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # For a conflict: the server's current values of the changed fields, and its version.
    theirs: dict[str, Any] = Field(default_factory=dict)
    theirs_updated_at: datetime | None = None
    # For a note: the vendor's ids of the notes with its text already on the record before
    # it was first posted (None: not looked yet), so a check after a lost reply knows ours
    # without comparing the vendor's clock with ours.
    seen_notes: list[str] | None = None
    # For an update: the server's version read right before it was last sent (None: never
    # sent). A later check that finds the old value on a newer version than this knows
    # someone else wrote after our send (it may have landed and been set back).
    sent_on_updated_at: datetime | None = None
    # For an update: a write of ours on the same record (a note or a logged call on it)
    # may have landed since that send, so a newer version is no sign of someone else.
    ours_since_sent: bool = False
    # For an update: those writes of ours, {their change id: the vendor's time of the
    # write once it is done (a note's), else None}. One that certainly did not land (the
    # vendor refused it) excuses nothing, and a known time excuses no later version.
    # Empty with ``ours_since_sent``: marked by an older crmtui (any version excused).
    ours_since: dict[str, datetime | None] = Field(default_factory=dict)
    # For an undo: the id of the sent change this one takes back (its compensating edit).
    undoes: str | None = None
    # For a change of a bulk edit: the id shared by all its changes (undone as one).
    batch: str | None = None

    @field_validator("values")
    @classmethod
    def _whole(cls, values: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.mode == "json":  # read back from the outbox: written whole
            return values
        return {key: _whole_values(value) for key, value in values.items()}
