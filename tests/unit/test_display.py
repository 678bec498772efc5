"""One money format and one date format everywhere (issue 15.2), and a queued value shown
everywhere at once: the helpers of ``crmtui.fields`` (pure), then each vendor's titles
built with them and following a queued edit, through the service on its sandbox."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crmtui.fields import NO_CURRENCY, date_text, display, local_text, money_text, parse_datetime
from crmtui.model import Change, FieldSpec, FieldType, KindInfo, Record, RecordRef, Role
from crmtui.service import Crm
from crmtui.store import optimistic, rows
from tests.helpers.service import demo_service

MONEY = FieldSpec(key="amount", label="Amount", type=FieldType.MONEY)
DAY = FieldSpec(key="close", label="Close date", type=FieldType.DATE)
VENDORS = ["freshsales", "salesseek", "activecampaign", "salesforceiq", "salesloft"]


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("108600.00", "GBP", "108,600.00 GBP"),
        (108600, "gbp", "108,600.00 GBP"),  # a code is upper-cased
        ("8000", "JPY", "8,000 JPY"),  # the currency's own decimals (ISO 4217)
        ("1.005", "KWD", "1.005 KWD"),
        ("12.345", "USD", "12.345 USD"),  # more decimals kept by the vendor: never rounded
        ("-2500.5", "EUR", "-2,500.50 EUR"),
        ("145600", None, "145,600.00"),  # no currency: the number alone, none invented
        ("145600", NO_CURRENCY, "145,600.00"),
        (Decimal("0"), "USD", "0.00 USD"),
        (None, "USD", ""),
        ("", "USD", ""),
        ("n/a", "USD", "n/a"),  # not a number: as the vendor sent it
    ],
)
def test_money_is_grouped_with_the_currency_decimals_and_its_code_last(
    amount: object, currency: str | None, shown: str
) -> None:
    assert money_text(amount, currency) == shown


def test_amounts_of_one_currency_line_up_on_the_point_in_a_right_aligned_column() -> None:
    shown = [money_text(a, "USD") for a in ("5", "85700", "1234567.8")]
    width = max(map(len, shown))
    points = {s.rjust(width).index(".") for s in shown}
    assert len(points) == 1, shown


def test_fields_lists_and_forms_show_money_and_dates_by_the_same_helpers() -> None:
    assert display(MONEY, "108600", currency="GBP") == money_text("108600", "GBP")
    assert display(MONEY, "145600") == "145,600.00"
    assert display(DAY, "2026-11-17") == date_text("2026-11-17") == "2026-11-17"
    assert display(DAY, "2026-11-17T00:00:00Z") == "2026-11-17"  # a date, never a time
    assert date_text(date(2026, 11, 17)) == "2026-11-17"
    assert date_text(None) == "" and date_text("soon") == "soon"
    moment = datetime(2026, 11, 17, 18, 0, tzinfo=UTC)
    spec = FieldSpec(key="due", label="Due", type=FieldType.DATETIME)
    assert display(spec, moment.isoformat()) == local_text(moment)


def _queued(subtitle: str, fields: dict[str, object], values: dict[str, object]) -> str:
    """The subtitle the cache shows once ``values`` are queued on a record (``optimistic``)."""
    ref = RecordRef(profile="p", kind="deal", id="1")
    record = Record(vendor="v", profile="p", kind="deal", id="1", title="Big deal")
    version = rows.Version(record.model_copy(update={"subtitle": subtitle, "fields": fields}))
    shown = optimistic.apply(version, Change(ref=ref, values=values), "v")
    assert shown is not None
    return shown.record.subtitle


def test_a_queued_amount_currency_or_date_replaces_the_one_the_title_shows() -> None:
    deal = {"amount": "108600.00", "currency": "GBP", "close": "2026-11-17", "n": "4000093"}
    line = "108,600.00 GBP · Won · due 2026-11-17"
    assert _queued(line, deal, {"amount": "8000"}) == "8,000.00 GBP · Won · due 2026-11-17"
    assert _queued(line, deal, {"currency": "JPY"}) == "108,600 JPY · Won · due 2026-11-17"
    assert _queued(line, deal, {"close": "2026-12-24"}) == "108,600.00 GBP · Won · due 2026-12-24"
    assert _queued(line, deal, {"amount": None}) == "Won · due 2026-11-17"  # no stray " · "
    # only a whole amount: 1,108,600.00 GBP is another amount, "108,600.00 GBP" is not in it
    assert _queued("1,108,600.00 GBP", deal, {"amount": "8000"}) == "1,108,600.00 GBP"
    # an amount with no currency (SalesforceIQ)
    assert _queued("Lead · 145,600.00", {"amount": "145600"}, {"amount": "9.5"}) == "Lead · 9.50"


# -- each vendor, on its sandbox --------------------------------------------------------


def _open(tmp_path: Path, vendor: str) -> Crm:
    return demo_service(vendor, tmp_path)


def _row(crm: Crm, record: Record) -> Record:
    """The record as its list shows it (the cache's window, queued edits applied)."""
    for offset in range(0, 5000, 500):
        window = crm.window(record.profile, record.kind, offset=offset, limit=500)
        found = [r for r in window if r.id == record.id]
        if found or len(window) < 500:
            assert found, f"{record.ref} is not in its list"
            return found[0]
    raise AssertionError(f"{record.ref} is not in its list")


def _found(crm: Crm, record: Record) -> Record:
    """The record as search shows it (searched by its title)."""
    words = " ".join(w for w in record.title.split() if w.isalnum())[:40] or record.title
    hits = [r for r in crm.search(words, profiles=[record.profile], limit=200)]
    found = [r for r in hits if r.ref == record.ref]
    assert found, f"{record.title!r} not found by search"
    return found[0]


def _everywhere(crm: Crm, record: Record) -> list[str]:
    """The title and subtitle as the record screen, its list and search show them."""
    shown = [crm.cached(record.ref), _row(crm, record), _found(crm, record)]
    return [f"{r.title} · {r.subtitle}" for r in shown if r is not None]


async def _amount_edits(crm: Crm, profile: str, info: KindInfo) -> None:
    amount, money = info.role(Role.AMOUNT), info.role(Role.CURRENCY)
    assert amount is not None
    records = (await crm.refresh(profile, info.kind)).records
    priced = [r for r in records if r.fields.get(amount) not in (None, "")]
    assert priced, f"{profile} {info.kind}: no amounts in the demo"
    for record in priced:  # every title shows its amount in the one format
        currency = record.fields.get(money) if money else None
        assert money_text(record.fields[amount], currency) in record.subtitle, record.subtitle
        assert "None" not in record.subtitle
    first, second = priced[0], priced[1]
    old = money_text(first.fields[amount], first.fields.get(money) if money else None)
    change = await crm.edit(first.ref, {amount: "8123"})
    assert isinstance(change, Change)
    currency = first.fields.get(money) if money else None
    new = money_text("8123", currency)
    assert new.startswith("8,123") and (currency is None or new.endswith(str(currency).upper()))
    for shown in _everywhere(crm, first):  # queued: shown at once, the old amount gone
        assert new in shown and old not in shown, shown
    assert f"→ {new}" in crm.describe(change)  # the outbox: with the currency
    await crm.outbox.flush(profile)  # sent: undo's preview names the currency too
    assert f"{new} → back to {old}" in " ".join((await crm.undo.plan(change.id)).lines)
    if money:  # a queued currency alone: the title's amount is in the new one at once
        spec = next(s for s in await crm.fields(profile, info.kind) if s.key == money)
        offered = [c.value for c in spec.choices] or ["EUR", "USD", "GBP"]  # a text field
        codes = [c for c in offered if c.upper() in ("EUR", "USD", "GBP")]
        other = next(c for c in codes if c.upper() != str(second.fields.get(money)).upper())
        await crm.edit(second.ref, {money: other})
        for shown in _everywhere(crm, second):
            assert money_text(second.fields[amount], other) in shown, shown


async def _due_edits(crm: Crm, profile: str, info: KindInfo) -> int:
    """Tasks whose title shows the due date or time: a queued new one shows at once."""
    key = info.role(Role.DUE_DATE) or info.role(Role.DUE)
    assert key is not None
    records = (await crm.refresh(profile, info.kind)).records
    followed = 0
    for record in records:
        value = record.fields.get(key)
        moment = parse_datetime(value) if info.role(Role.DUE_DATE) is None else None
        before = local_text(moment) if moment else date_text(value)
        if not value or f"due {before}" not in record.subtitle:
            continue
        typed = "2026-12-24 15:30" if moment else "2026-12-24"
        change = await crm.edit(record.ref, {key: typed})
        assert isinstance(change, Change)
        after = local_text(parse_datetime(change.values[key])) if moment else "2026-12-24"
        for shown in _everywhere(crm, record):
            assert f"due {after}" in shown and f"due {before}" not in shown, shown
        followed += 1
        break
    return followed


@pytest.mark.parametrize("vendor", VENDORS)
async def test_titles_use_the_one_format_and_show_a_queued_value_at_once(
    tmp_path: Path, vendor: str
) -> None:
    """Every vendor's titles show amounts (with their currency, or none: SalesforceIQ) and
    due times in the one format; a queued amount, currency or due date shows at once in
    the record's title, its list row and search, and the outbox names the currency."""
    crm = _open(tmp_path, vendor)
    profile = f"demo-{vendor}"
    try:
        kinds = await crm.kinds(profile)
        priced = [i for i in kinds if i.role(Role.AMOUNT)]
        tasks = [i for i in kinds if i.role(Role.DUE) or i.role(Role.DUE_DATE)]
        for info in priced[:1]:
            await _amount_edits(crm, profile, info)
        followed = [await _due_edits(crm, profile, info) for info in tasks]
        if vendor in ("freshsales", "activecampaign", "salesloft"):  # their titles show it
            assert sum(followed) == 1
        assert priced or vendor == "salesloft"
    finally:
        await crm.close()
