"""Benchmark data: N realistic deals written through the store's real write path.

Deals are built from ``crmtui.sandbox.fake.Fake`` (a pool of companies, a person per
deal) and stored with ``Store.upsert_records`` in batches, as a sync would store them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from crmtui.model import Choice, FieldSpec, FieldType, Record
from crmtui.store import Store

if TYPE_CHECKING:  # imported when deals are made: a cold start (``first_paint``) reads
    # only the names here, and ``crmtui.sandbox`` (httpx, starlette) is the harness's
    from crmtui.sandbox.fake import Company

PROFILE = "bench"
VENDOR = "freshsales"
KIND = "deal"
BATCH = 5_000
STAGES = ("New", "Qualified", "Demo", "Proposal", "Negotiation", "Won", "Lost")
OWNERS = tuple(str(i) for i in range(1, 13))

SPECS = [
    FieldSpec(key="name", label="Name", type=FieldType.TEXT),
    FieldSpec(key="amount", label="Amount", type=FieldType.MONEY),
    FieldSpec(key="currency", label="Currency", type=FieldType.TEXT),
    FieldSpec(
        key="stage",
        label="Stage",
        type=FieldType.CHOICE,
        choices=[Choice(value=str(i), label=s) for i, s in enumerate(STAGES)],
    ),
    FieldSpec(key="status", label="Status", type=FieldType.CHOICE),
    FieldSpec(key="owner", label="Owner", type=FieldType.USER),
    FieldSpec(key="company", label="Company", type=FieldType.TEXT),
    FieldSpec(key="contact", label="Contact", type=FieldType.TEXT),
    FieldSpec(key="email", label="Email", type=FieldType.TEXT),
    FieldSpec(key="expected_close", label="Expected close", type=FieldType.DATE),
    FieldSpec(key="probability", label="Probability", type=FieldType.NUMBER),
]
COLUMNS = ["title", "amount", "stage", "owner", "expected_close"]


def deals(count: int, *, seed: int = 0, start: int = 0) -> Iterator[Record]:
    """``count`` deals with ids ``start``.. (deterministic from ``seed``)."""
    from crmtui.sandbox.fake import Fake

    fake = Fake(seed)
    companies: list[Company] = [fake.company() for _ in range(2_000)]
    for number in range(start, start + count):
        company = companies[number % len(companies)]
        person = fake.person(company)
        stage = fake.rng.randrange(len(STAGES))
        status = "won" if STAGES[stage] == "Won" else "lost" if STAGES[stage] == "Lost" else "open"
        updated = fake.past(365)
        amount = fake.amount()
        yield Record(
            vendor=VENDOR,
            profile=PROFILE,
            kind=KIND,
            id=str(number + 1),
            title=f"{fake.deal_name(company)} #{number + 1}",
            subtitle=f"{company.name} · ${amount:,}",
            created_at=updated - timedelta(days=fake.rng.randint(0, 200)),
            updated_at=updated,
            fields={
                "name": f"{fake.deal_name(company)} #{number + 1}",
                "amount": f"{amount}.00",
                "currency": "USD",
                "stage": str(stage),
                "status": status,
                "owner": fake.pick(OWNERS),
                "company": company.name,
                "contact": person.name,
                "email": person.email,
                "expected_close": fake.future_date().isoformat(),
                "probability": fake.rng.choice((10, 25, 50, 75, 90)),
            },
        )


def build(
    store: Store,
    count: int,
    *,
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> float:
    """Write ``count`` deals in batches of ``BATCH``; returns the seconds it took."""
    store.put_fields(PROFILE, KIND, SPECS)
    started = time.perf_counter()
    batch: list[Record] = []
    done = 0
    for record in deals(count, seed=seed):
        batch.append(record)
        if len(batch) == BATCH:
            done += store.upsert_records(batch)
            batch.clear()
            if progress:
                progress(done, time.perf_counter() - started)
    done += store.upsert_records(batch)
    return time.perf_counter() - started
