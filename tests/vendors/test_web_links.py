"""Each vendor's web app link of a record (``Vendor.record_url``), built from the declared
web root and each kind's page (``Resource.web``): the account's host, the page, the id
quoted; None where the vendor has no page for a kind or the profile names no account."""

from __future__ import annotations

import pytest

from crmtui import vendors
from crmtui.http import Http
from crmtui.vendors.base import Profile, Vendor


def adapter(vendor: str, base_url: str | None = None, **settings: str) -> Vendor:
    profile = Profile(name="p", vendor=vendor, base_url=base_url, settings=settings, secrets={})
    return vendors.load(vendor)(profile, Http())


@pytest.mark.parametrize(
    ("vendor", "settings", "kind", "url"),
    [
        ("freshsales", {"domain": "acme"}, "deal", "https://acme.freshsales.io/deals/7"),
        ("freshsales", {"domain": "acme"}, "company", "https://acme.freshsales.io/accounts/7"),
        ("freshsales", {"domain": "acme"}, "lead", "https://acme.freshsales.io/leads/7"),
        (
            "freshsales",
            {"domain": "acme.myfreshworks.com"},
            "contact",
            "https://acme.myfreshworks.com/crm/sales/contacts/7",
        ),
        ("freshsales", {"domain": "acme"}, "task", None),
        (
            "salesseek",
            {"client_id": "acme"},
            "contact",
            "https://acme.salesseek.net/#individuals/7",
        ),
        ("salesseek", {"client_id": "acme"}, "deal", "https://acme.salesseek.net/#opportunities/7"),
        (
            "activecampaign",
            {"account": "acme"},
            "deal",
            "https://acme.activehosted.com/app/deals/7",
        ),
        (
            "activecampaign",
            {"account": "acme.api-us1.com"},
            "contact",
            "https://acme.activehosted.com/app/contacts/7",
        ),
        ("activecampaign", {"account": "acme"}, "task", None),
        ("salesloft", {}, "contact", "https://app.salesloft.com/app/people/7"),
        ("salesloft", {}, "company", "https://app.salesloft.com/app/company/7"),
        ("salesloft", {}, "task", None),
        ("salesforceiq", {}, "contact", "https://app.salesforceiq.com/#/contacts/7"),
        ("salesforceiq", {}, "company", "https://app.salesforceiq.com/#/accounts/7"),
        (
            "salesforceiq",
            {},
            "list:5a1b",
            "https://app.salesforceiq.com/#/lists/5a1b/listitems/7",
        ),
    ],
)
def test_the_web_link_of_each_vendor(
    vendor: str, settings: dict[str, str], kind: str, url: str | None
) -> None:
    assert adapter(vendor, **settings).record_url(kind, "7") == url


def test_no_account_named_no_link() -> None:
    local = "http://127.0.0.1:9/api/"  # a sandbox's: the account is not named
    assert adapter("salesseek", local, client_id="").record_url("deal", "7") is None
    assert adapter("activecampaign", local, account="").record_url("deal", "7") is None
    assert adapter("freshsales", local, domain="").record_url("deal", "7") is None


def test_an_id_never_moves_the_page() -> None:
    """Ids are checked when read (``record_id``); a link quotes them all the same."""
    link = adapter("freshsales", domain="acme").record_url("deal", "7 a?b#c")
    assert link == "https://acme.freshsales.io/deals/7%20a%3Fb%23c"
