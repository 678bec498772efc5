"""Records for the store tests, as an adapter would return them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crmtui.model import Record

T0 = datetime(2026, 11, 1, 9, 0, 0, 123456, tzinfo=UTC)


def rec(
    id: str,
    title: str,
    *,
    kind: str = "company",
    profile: str = "acme-fs",
    minutes: int = 0,
    **fields: Any,
) -> Record:
    """A record as an adapter would return it, updated ``minutes`` after T0."""
    return Record(
        vendor="freshsales",
        profile=profile,
        kind=kind,
        id=id,
        title=title,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        fields=fields,
        raw={"id": id, "name": title},
    )
