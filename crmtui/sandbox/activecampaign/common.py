"""What every ActiveCampaign sandbox endpoint shares: the call (:class:`AcCall`, the kit's
:class:`~crmtui.sandbox.kit.Call` with v3's request helpers), v3 error bodies,
``limit``/``offset`` paging, ``filters[...]``/``orders[...]`` parsing, links."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from crmtui.sandbox import kit
from crmtui.sandbox.activecampaign.data import Db, Row, parse_stamp

API = "/api/3"
PAGES = kit.Offset(default=20, maximum=100)  # ``limit`` (default 20, at most 100), ``offset``
ApiError = kit.ApiError


def not_found(entity: str, id: str) -> ApiError:
    return ApiError(404, f"No Result found for {entity} with id {id}")


def meta_not_found() -> ApiError:
    """The custom-field endpoints' own 404 body."""
    return ApiError(404, body={"errors": [{"status": 404, "title": "Not Found"}]})


def bad_request() -> ApiError:
    return ApiError(400, "Bad Request")


@dataclass(frozen=True)
class Problem:
    """One item of a v3 ``errors`` array."""

    title: str
    code: str  # field_missing | field_invalid | related_missing
    field: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "detail": "",
            "code": self.code,
            "source": {"pointer": f"/data/attributes/{self.field}"},
        }


def invalid(problems: Iterable[Problem], status: int = 422) -> ApiError:
    return ApiError(status, body={"errors": [p.as_dict() for p in problems]})


def check(problems: list[Problem], status: int = 422) -> None:
    if problems:
        raise invalid(problems, status)


def records(
    body: dict[str, Any], name: str, entity: str
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The list of objects ``body[name]`` holds (a deal's ``fields``: ``[{"customFieldId":
    1, "fieldValue": ...}]``), and the problem when it holds anything else (a string, a
    number, a list of numbers): v3's 422 ``field_invalid`` for the field, never a 500."""
    value = body.get(name)
    if value is None:
        return [], []
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value, []
    return [], [Problem(f"The {entity} {name} is not valid.", "field_invalid", name)]


def text_problems(body: dict[str, Any], names: Iterable[str], entity: str) -> list[Problem]:
    """v3's 422 ``field_invalid`` for each text field in ``names`` that holds a list or an
    object (a number is text to v3's PHP, as ``"5"`` would be)."""
    return [
        Problem(f"The {entity} {name} is not valid.", "field_invalid", name)
        for name in names
        if isinstance(body.get(name), list | dict)
    ]


def empty() -> Response:
    """AC's reply to a delete: 200 with an empty body."""
    return Response(status_code=200)


class AcCall(kit.Call):
    """One request as a handler sees it: the kit's call, with the account's data typed,
    ``now`` read once, the key's ``user`` and v3's query and body helpers."""

    def __init__(self, request: Request, running: kit.Running[Any], key: str) -> None:
        super().__init__(request, running, key)
        self.now: datetime = self.clock()

    @property
    def user(self) -> str:
        """The id of the user the ``Api-Token`` belongs to."""
        return self.key

    @property
    def id(self) -> str:
        return self.params.get("id", "")

    @property
    def db(self) -> Db:
        return cast(Db, self.running.db)

    def param(self, name: str) -> str | None:
        value: str | None = self.query.get(name)
        return value

    async def body(self, wrapper: str | None = None) -> Any:
        """The JSON body (400 if it is not JSON), unwrapped from ``{wrapper: {...}}``."""
        data = await self.json()
        data = {} if data is None else data
        if wrapper is None:
            return data
        inner = data.get(wrapper) if isinstance(data, dict) else None
        return inner if isinstance(inner, dict) else {}

    def filters(self) -> dict[str, str]:
        """``filters[name]=value`` (also AC's documented ``Fitlers[...]`` typo)."""
        out: dict[str, str] = {}
        for key, value in self.query.multi_items():
            lowered = key.lower()
            if lowered.startswith(("filters[", "fitlers[")) and key.endswith("]"):
                out[key[8:-1]] = value
        return out

    def orders(self) -> list[tuple[str, bool]]:
        """``orders[name]=ASC|DESC`` in query order: (name, descending)."""
        out = []
        for key, value in self.query.multi_items():
            if key.startswith("orders[") and key.endswith("]"):
                out.append((key[7:-1], value.strip().upper() == "DESC"))
        return out

    def page(self, rows: list[Row]) -> tuple[list[Row], int]:
        """The ``limit``/``offset`` slice of ``rows`` and the total."""
        page = PAGES.of(self, rows)
        return page.rows, page.total


def as_int(value: Any, default: int | None = None) -> int:
    """An integer parameter; a bad one is a 400 (or ``default`` when absent)."""
    if value is None or value == "":
        if default is None:
            raise bad_request()
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise bad_request() from None


def int_text(value: Any) -> str | None:
    """An id or number as v3 stores it (a string), or None if it is not an integer."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return str(int(str(value).strip()))
    except ValueError:
        return None


def when(value: str | None) -> datetime:
    """A stored timestamp for comparisons (missing ones sort first)."""
    return parse_stamp(value) or datetime.min.replace(tzinfo=UTC)


def filter_time(value: str) -> datetime:
    moment = parse_stamp(value)
    if moment is None:
        raise bad_request()
    return moment


def contains(needle: str) -> Callable[[Any], bool]:
    lowered = needle.lower()
    return lambda text: lowered in str(text or "").lower()


def equals(key: str, value: str) -> Callable[[Row], bool]:
    """A filter: ``row[key]`` (as text) is ``value``."""
    return lambda row: str(row[key]) == value


def field_contains(key: str, needle: str) -> Callable[[Row], bool]:
    """A filter: ``row[key]`` contains ``needle``, ignoring case."""
    hit = contains(needle)
    return lambda row: hit(row[key])


SortKey = Callable[[Row], Any]


def ordered(rows: list[Row], orders: list[tuple[str, bool]], keys: dict[str, SortKey]) -> list[Row]:
    """``rows`` by id, then by each known order (the first order wins)."""
    out = sorted(rows, key=lambda r: int(r["id"]))
    for name, descending in reversed(orders):
        key = keys.get(name)
        if key is not None:
            out.sort(key=key, reverse=descending)
    return out


def links(kind: str, id: str, names: Iterable[str]) -> dict[str, str]:
    return {name: f"{API}/{kind}/{id}/{name}" for name in names}


def with_links(row: Row, kind: str, names: Iterable[str]) -> Row:
    return {**row, "links": links(kind, row["id"], names)}


def listing(plural: str, rows: list[Row], total: int, **extra: Any) -> dict[str, Any]:
    """A v3 collection: the records and ``meta.total`` (a string, as most lists send)."""
    return {plural: rows, **extra, "meta": {"total": str(total)}}
