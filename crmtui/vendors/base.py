"""The one interface every vendor adapter implements.

A vendor module holds one ``Vendor`` subclass. It declares its settings (what a profile
must give: a domain, an email, a secret...) and its documented rate budget as class
attributes; the config, the CLI and the home screen are built from them. Adapters are
found through the ``crmtui.vendors`` entry-point group, so a new CRM can ship as its own
package without any change to the app.

Every method speaks the neutral model (``crmtui.model``) and raises only
``crmtui.http.CrmError`` subclasses. Vendor JSON never leaves the adapter except in
``Record.raw`` / ``Activity.raw``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import quote, urlsplit

import httpx

from crmtui.fields import parse_datetime, same_value
from crmtui.http import (
    CrmError,
    Http,
    InsecureURL,
    NotFound,
    RateBudget,
    RateLimiter,
    VendorSession,
)
from crmtui.http.urls import check_url, is_local_name, is_loopback_host
from crmtui.model import (
    Activity,
    Change,
    Choice,
    FieldSpec,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
)
from crmtui.vendors.auth import Connection, Credentials
from crmtui.vendors.mapping import (
    MAX_PAGES,
    ActivityLog,
    Context,
    Json,
    Logged,
    Notes,
    Paging,
    Resource,
    dig,
    fetch_all,
)
from crmtui.vendors.mapping import json_text as json_text  # re-exported
from crmtui.vendors.mapping import record_id as record_id  # re-exported

T = TypeVar("T")

# One DNS label: what a vendor's account sub-domain may be (ASCII letters, digits,
# inner hyphens; 63 at most). Anything else (".", "/", "@", "#", "?", "%", spaces,
# unicode dots) could move the host a secret is sent to.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")


class SettingKind(StrEnum):
    """How a setting's value is checked when the config loads."""

    TEXT = "text"  # any single line of text
    HOST_LABEL = "host_label"  # an account sub-domain: becomes <label>.<vendor host>
    EMAIL = "email"


@dataclass(frozen=True)
class Setting:
    """One thing a profile of this vendor must (or may) give.

    ``kind`` says how the value is checked when the config loads (``check``). A
    ``HOST_LABEL`` setting becomes part of the host that secrets are sent to: it must be
    one DNS label (``acme``), or that label followed by one of the vendor's own
    ``domains`` (``acme.freshsales.io``); ``host`` gives the full host name, the first
    of ``domains`` by default.
    """

    name: str
    label: str
    secret: bool = False
    required: bool = True
    help: str = ""
    kind: SettingKind = SettingKind.TEXT
    domains: tuple[str, ...] = ()  # HOST_LABEL: the vendor's parent domains
    example: str = ""  # a good value, shown when a value is refused

    def expected(self) -> str:
        """What a good value looks like, for error messages."""
        example = f', e.g. "{self.example}"' if self.example else ""
        if self.kind is SettingKind.HOST_LABEL:
            forms = " or ".join(f"NAME.{domain}" for domain in self.domains)
            return (
                f"your account's sub-domain NAME (letters, digits and inner hyphens)"
                f"{' or ' + forms if forms else ''}{example}"
            )
        if self.kind is SettingKind.EMAIL:
            return f"an email address{example}"
        return f"one line of text{example}"

    def check(self, value: str) -> str:
        """The value as it will be used; ``ValueError`` (saying what is expected) if bad."""
        if self.kind is SettingKind.HOST_LABEL:
            self.host(value)
            return value.strip().lower()
        if self.kind is SettingKind.EMAIL:
            if not _EMAIL.fullmatch(value.strip()):
                raise ValueError(self.expected())
            return value.strip()
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError(self.expected())
        return value

    def host(self, value: str) -> str:
        """The host name a ``HOST_LABEL`` value names (``acme`` -> ``acme.freshsales.io``)."""
        text = value.strip().lower()
        if not text.isascii():
            raise ValueError(self.expected())
        for domain in self.domains:
            if text.endswith("." + domain):
                text, parent = text.removesuffix("." + domain), domain
                break
        else:
            parent = self.domains[0] if self.domains else ""
        if not parent or not _LABEL.fullmatch(text):
            raise ValueError(self.expected())
        return f"{text}.{parent}"


@lru_cache(maxsize=256)
def https_url(host: str, path: str, domains: tuple[str, ...]) -> str:
    """``https://host/path``, built by a URL parser and checked to be on the vendor's domains.

    The last guard before a secret is sent: whatever a setting held, the request goes to
    a host under one of ``domains`` or nowhere. Kept (a pure function of its arguments; a
    refused host raises each time): every listed record's web link asks for the same
    account's root, and parsing it again for each of a page's 200 rows was about a
    quarter of the CPU of reading a Freshsales page (profiled).
    """
    url = httpx.URL(scheme="https", host=host, path=path)
    if not on_domains(url.host, domains):
        raise ValueError(f"{url.host!r} is not a host of {' or '.join(domains)}")
    return str(url)


def on_domains(host: str, domains: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``domains`` or a name under one of them."""
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in domains)


@dataclass
class Profile:
    """A named connection to one vendor account, as resolved from config.toml.

    ``settings`` holds the non-secret values (domain, email...); ``secrets`` the secret
    ones, resolved from the environment or keyring and kept in memory only.
    """

    name: str
    vendor: str
    base_url: str | None = None
    settings: dict[str, str] | None = None
    secrets: dict[str, str] | None = field(default=None, repr=False)  # never shown
    rate_scale: float = 1.0  # run under a fraction of the budget (e.g. 0.9) if wanted
    # base_url may be on a host outside the vendor's own domains (a proxy, a regional
    # host): the user said so in config.toml (``allow_other_host = true``).
    allow_other_host: bool = False

    def setting(self, key: str, default: str = "") -> str:
        return (self.settings or {}).get(key, default)

    def secret(self, key: str) -> str:
        return (self.secrets or {}).get(key, "")


def holds(record: Record, values: Mapping[str, Any]) -> bool:
    """Whether ``record`` has every one of ``values``: a replayed create's earlier result.

    Values compare as field values (``"1250.00" == 1250``); two texts that both read as
    datetimes compare as instants (``...Z`` == ``...+00:00``).
    """
    for key, wanted in values.items():
        have = record.fields.get(key)
        if same_value(have, wanted):
            continue
        if isinstance(have, str) and isinstance(wanted, str):
            try:
                when = parse_datetime(have), parse_datetime(wanted)
            except ValueError:
                return False
            if when[0] is not None and when[0] == when[1]:
                continue
        return False
    return True


class CannotTell(CrmError):
    """The adapter has no way to look for what an earlier try of a write made."""


class Vendor(ABC):
    """One CRM vendor's adapter. Subclasses fill in the class attributes and methods."""

    name: ClassVar[str]  # "freshsales": the key used in config.toml
    label: ClassVar[str]  # "Freshsales": shown to the user
    settings: ClassVar[tuple[Setting, ...]] = ()
    budget: ClassVar[RateBudget]
    # Whether a note ``add_note`` made shows on ``timeline`` with its text, so that the
    # outbox can tell whether a note whose reply was lost arrived (else the user decides).
    notes_listed: ClassVar[bool] = False
    # How a call or meeting logged on a record (``L``) is recorded: the vendor's
    # documented activity kind, declared in its package (``mapping.ActivityLog``); the
    # default logs nothing and says so.
    activity_log: ClassVar[ActivityLog] = ActivityLog()
    # The kinds a note may be added on, as the vendor's docs say, declared in its package
    # (``mapping.Notes``); the default takes none. ``Crm.add_note`` refuses the others.
    notes: ClassVar[Notes] = Notes()
    # The domains the vendor's API is served from, besides those of its ``HOST_LABEL``
    # settings (``domains()`` gives all): a base_url elsewhere needs allow_other_host.
    api_domains: ClassVar[tuple[str, ...]] = ()

    # How the session authenticates (see ``crmtui.vendors.auth``): the base builds the
    # session from it on first use (``connect``).
    connection: ClassVar[Connection | None] = None
    # The kinds declared on the mapping (``crmtui.vendors.mapping``), kind -> resource,
    # in tab order; ``fields``, ``resource`` and the record readers/writers use them.
    resources: ClassVar[Mapping[str, Resource]] = {}

    def __init__(self, profile: Profile, http: Http) -> None:
        """Nothing overridable runs here: the session is built on first use."""
        self.profile = profile
        self.http = http
        budget = self.budget
        if profile.rate_scale != 1.0:
            budget = RateBudget(
                budget.requests * profile.rate_scale,
                budget.seconds,
                None if budget.burst is None else budget.burst * profile.rate_scale,
                budget.note,
            )
        self.limiter = RateLimiter(budget)
        # Lookups the adapter loads once (stages, users, views...): name -> value, see
        # ``cached``; field specs per kind, see ``fields``.
        self.lookups: dict[str, Any] = {}
        self._stale: set[str] = set()  # lookups to load again (``reload_lookups``)
        self._specs: dict[str, list[FieldSpec]] = {}
        self._session: VendorSession | None = None
        # Where the profile's secrets would go, checked now (a pure function of the
        # profile and the class's declarations): a base_url off the vendor's domains is
        # refused when the adapter is made, not at its first request.
        self.base_url()

    @property
    def session(self) -> VendorSession:
        """The profile's session, built from ``connection`` on first use."""
        if self._session is None:
            self._session = self.connect()
            self.session_ready(self._session)
        return self._session

    @session.setter
    def session(self, session: VendorSession) -> None:
        self._session = session

    @property
    def has_session(self) -> bool:
        """Whether the session was built (``close`` need not log out of one never used)."""
        return self._session is not None

    # -- connection ------------------------------------------------------------

    @classmethod
    @abstractmethod
    def default_base_url(cls, profile: Profile) -> str:
        """The vendor's API root for this profile's account (always https)."""

    @classmethod
    def domains(cls) -> tuple[str, ...]:
        """The vendor's own domains (``freshsales.io``...), where its API lives."""
        found = list(cls.api_domains)
        for setting in cls.settings:
            found += setting.domains
        return tuple(dict.fromkeys(found))

    @classmethod
    def check_base_url(cls, url: str, *, allow_other_host: bool = False) -> str:
        """``url`` if this vendor's credentials may go there, else ``InsecureURL``.

        Decision: a base_url is on one of the vendor's own ``domains()`` or on loopback
        (a sandbox); any other host only when the profile says ``allow_other_host =
        true`` (a proxy, a regional host), so a typo or a pasted link never sends a key
        to a stranger. The message names the key and shows a good value.
        """
        check_url(url)
        host = (urlsplit(url).hostname or "").lower()
        if allow_other_host or on_domains(host, cls.domains()):
            return url
        if is_loopback_host(host) or is_local_name(host):
            return url
        example = cls.example_base_url()
        good = f'e.g. base_url = "{example}"' if example else "a loopback sandbox URL"
        raise InsecureURL(
            f"{host} is not a host of {cls.label} ({' or '.join(cls.domains()) or 'none'}) "
            f"nor loopback: {good}; to send this profile's credentials to {host} anyway "
            "(a proxy or a regional host), add allow_other_host = true to the profile"
        )

    @classmethod
    def example_base_url(cls) -> str:
        """The API root of an example account (for messages), or "" when unknown."""
        settings = {s.name: s.example for s in cls.settings if s.example and not s.secret}
        try:
            return cls.default_base_url(Profile(name="example", vendor=cls.name, settings=settings))
        except Exception:
            return ""

    def base_url(self) -> str:
        if self.profile.base_url:
            return self.check_base_url(
                self.profile.base_url, allow_other_host=self.profile.allow_other_host
            )
        return self.default_base_url(self.profile)

    def connect(self) -> VendorSession:
        """The session, from the declared ``connection`` (auth, error parser, redirects).
        Runs on first use of ``session``; its secrets are redacted everywhere."""
        connection = self.connection
        if connection is None:
            raise TypeError(f"{type(self).__name__} declares no connection")
        profile, base_url = self.profile, self.base_url()
        creds = Credentials(profile.setting, profile.secret, base_url, self.http.redact.add)
        return self.http.session(
            profile=profile.name,
            vendor=self.label,
            base_url=base_url,
            auth=connection.auth.flow(creds),
            limiter=self.limiter,
            parse_error=connection.errors,
            secrets=tuple(profile.secret(name) for name in connection.auth.secret_names()),
            follow_redirects=connection.follow_redirects,
        )

    def session_ready(self, session: VendorSession) -> None:  # noqa: B027 - optional hook
        """Called once the session is built (e.g. to watch rate-limit headers)."""

    # -- shared helpers ----------------------------------------------------------------

    async def cached(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        """``load()`` once per adapter (a lookup: stages, users, views...), kept under
        ``name`` in ``lookups``; a failed load is tried again next time. After
        ``reload_lookups`` it is loaded again once (the old value kept if that fails)."""
        if name not in self.lookups or name in self._stale:
            self.lookups[name] = await load()
            self._stale.discard(name)
        return cast(T, self.lookups[name])

    def reload_lookups(self) -> None:
        """Load every lookup again the next time ``cached`` asks for it (the vendor's
        schema changed: a custom field added, a stage renamed). Until then, and if the
        new load fails, readers keep the values they have: nothing is emptied."""
        self._stale.update(self.lookups)

    async def fetch_all(
        self,
        path: str,
        paging: Paging,
        items: str,
        params: Mapping[str, Any] | None = None,
        *,
        per_page: int = 100,
        max_pages: int = MAX_PAGES,
    ) -> list[Json]:
        """Every object of a collection (``items``: where a page's list is in the reply,
        dotted), page by page as ``paging`` says; bounded (see ``mapping.fetch_all``)."""

        async def page(cursor: str | None) -> tuple[list[Json], str | None]:
            query = {**(params or {}), **paging.params(cursor, per_page)}
            body = await self.session.json("GET", path, params=query)
            found = dig(body, items) if isinstance(body, dict) else body
            batch = [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
            return batch, paging.next_cursor(cursor, per_page, len(batch), body)

        return await fetch_all(page, max_pages=max_pages)

    def resource(self, kind: str) -> Resource:
        """The declared resource of ``kind``; ``Rejected`` for a kind the vendor lacks."""
        try:
            return self.resources[kind]
        except KeyError:
            from crmtui.http import Rejected

            raise Rejected(self.label, f"{self.label} has no {kind!r} records here") from None

    def context(self, tables: Mapping[str, Mapping[str, str]] | None = None) -> Context:
        """What the mapping's codecs need: the vendor's name and loaded lookup tables."""
        return Context(self.label, tables or {})

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Log out or release what the adapter holds (the shared client stays open)."""

    # -- schema -------------------------------------------------------------------

    @abstractmethod
    async def kinds(self) -> list[KindInfo]:
        """The kinds this vendor offers, in its own words, in tab order."""

    async def fields(self, kind: str, *, refresh: bool = False) -> list[FieldSpec]:
        """The fields of ``kind``, with choices (stages, owners...) read from the API:
        built once (``build_fields``), a fresh copy each call; ``refresh`` reads them
        from the vendor again, with the lookups they come from (``reload_lookups``)."""
        if refresh:
            self.reload_lookups()
            self._specs.pop(kind, None)
        if kind not in self._specs:
            self._specs[kind] = await self.build_fields(self.resource(kind))
        return [spec.model_copy(deep=True) for spec in self._specs[kind]]

    async def build_fields(self, resource: Resource) -> list[FieldSpec]:
        """The declared fields' specs with their choices (``choices``), then the custom
        fields (``custom_fields``)."""
        choices = {
            f.key: await self.choices(f.choices) for f in resource.fields if f.choices is not None
        }
        return resource.specs(choices) + await self.custom_fields(resource)

    async def choices(self, source: str) -> list[Choice]:
        """The choices a field's ``choices`` source names (a vendor's stages, owners...)."""
        raise NotImplementedError(f"{self.label} has no choice source {source!r}")

    async def custom_fields(self, resource: Resource) -> list[FieldSpec]:
        """The specs of the kind's custom fields (see ``mapping.custom_spec``)."""
        return []

    # -- reads --------------------------------------------------------------------

    @abstractmethod
    async def list_page(self, kind: str, query: Query) -> Page:
        """One page of ``kind``; ``Page.next_cursor`` is None on the last page."""

    @abstractmethod
    async def get(self, kind: str, id: str) -> Record:
        """One record, with its related records filled in ``Record.related``."""

    @abstractmethod
    async def timeline(self, kind: str, id: str) -> list[Activity]:
        """The record's activity timeline, newest first ([] if the kind has none)."""

    async def whoami(self) -> str | None:
        """The id of the user the profile signs in as, as the ``Role.OWNER`` fields hold
        users (My day shows this user's tasks); None when the vendor does not say."""
        return None

    # -- writes -------------------------------------------------------------------

    @abstractmethod
    async def update(self, change: Change) -> Record:
        """Apply ``change.values`` to the record; return the record as the server has it."""

    def update_requests(self, records: Sequence[Record], keys: Sequence[str] = ()) -> int:
        """How many requests the outbox sends to update each of ``records`` (as cached)
        with the fields ``keys``, one after another: per record its read (``get``), then
        ``update``. A bulk edit's
        preview shows it against the rate budget. One request each by default; an
        adapter whose ``get`` or ``update`` sends more (related records, a lookup not
        loaded yet, a read back after the write) counts them too."""
        return 2 * len(records)

    @abstractmethod
    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        """Create a record. Where the vendor has no idempotency key, the adapter first
        looks for a record it created earlier with the same key (see ``find_created``)."""

    @abstractmethod
    async def delete(self, ref: RecordRef) -> None:
        """Delete the record on the server."""

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        """The record an earlier try of this create made (its reply was lost), or None
        when there is none, so the create can be sent again without making a second one:
        the first of ``lookalikes`` that ``holds`` every value of the create.

        ``CannotTell`` when the vendor offers no way to look (the user then decides).
        """
        for candidate in await self.lookalikes(kind, values, idempotency_key):
            if holds(candidate, values):
                return candidate
        return None

    async def lookalikes(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> list[Record]:
        """Records (read in full) that may be an earlier try of this create, e.g. exact
        search hits; ``CannotTell`` when the vendor offers no way to look."""
        raise CannotTell(self.label, f"there is no way to look for a {kind} made earlier")

    async def is_deleted(self, ref: RecordRef) -> bool:
        """Whether the record is gone on the server (a delete of it arrived)."""
        try:
            await self.get(ref.kind, ref.id)
        except NotFound:
            return True
        return False

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        """Add a note to a record's timeline (vendors without notes raise Rejected)."""
        from crmtui.http import Rejected

        raise Rejected(self.label, f"{self.label} has no notes on this kind of record")

    async def log_choices(self, source: str) -> list[Choice]:
        """The choices of a logged call's ``LogChoice`` (its ``source``)."""
        return await self.choices(source)

    async def log_activity(self, ref: RecordRef, logged: Logged) -> Activity:
        """Record a call or meeting logged on ``ref`` as the vendor's documented activity
        kind (``activity_log``); the activity as its timeline shows it."""
        from crmtui.http import Rejected

        raise Rejected(self.label, self.activity_log.refusal or f"{self.label} logs no calls")

    async def delete_logged(self, ref: RecordRef, id: str) -> None:
        """Delete a call ``log_activity`` made on ``ref`` (its ``Activity.id``: ``id``),
        where ``activity_log.deletable``."""
        from crmtui.http import Rejected

        raise Rejected(self.label, f"{self.label} offers no way to delete a logged call")

    def web_root(self) -> str | None:
        """The root of the account's web app (``https://acme.freshsales.io/``), from which
        each kind's page (``Resource.web``) is reached; None when the vendor has no web
        app crmtui knows, or the profile does not name the account."""
        return None

    def web_page(self, kind: str) -> str:
        """The template of a ``kind`` record's page in the web app, relative to
        ``web_root`` (``"deals/{id}"``); "" when it has none (``Resource.web``)."""
        resource = self.resources.get(kind)
        return resource.web if resource is not None else ""

    def record_url(self, kind: str, id: str) -> str | None:
        """The vendor's own web page for a record (``web_root`` + ``web_page``), None when
        the vendor has none for the kind. The id is quoted: it never moves the path."""
        page = self.web_page(kind)
        root = self.web_root() if page else None
        if not page or not root:
            return None
        return root + page.format(id=quote(id, safe=""))
