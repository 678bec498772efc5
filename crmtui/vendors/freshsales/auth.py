"""How crmtui reaches a Freshsales account: its host, its token header, its error bodies."""

from __future__ import annotations

import httpx

from crmtui.http.client import json_object
from crmtui.vendors.auth import Connection, HeaderToken
from crmtui.vendors.base import Setting, SettingKind, https_url

# The account's host: NAME.freshsales.io (classic) or NAME.myfreshworks.com (suite).
DOMAIN = Setting(
    "domain",
    "Domain",
    help="the NAME in https://NAME.freshsales.io (or NAME.myfreshworks.com)",
    kind=SettingKind.HOST_LABEL,
    domains=("freshsales.io", "myfreshworks.com"),
    example="acme",
)
API_KEY = Setting("api_key", "API key", secret=True, help="Profile Settings > API Settings")


def parse_error(response: httpx.Response) -> str | None:
    """The message of a Freshsales error body: ``{"errors": {"code", "message"}}``."""
    body = json_object(response)
    if body is None:
        return None
    errors = body.get("errors", body)
    if isinstance(errors, list):
        errors = errors[0] if errors else {}
    if isinstance(errors, dict):
        message = errors.get("message")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        if message:
            return str(message)
    elif isinstance(errors, str):
        return errors
    return None


CONNECTION = Connection(
    auth=HeaderToken(API_KEY.name, "Authorization", "Token token={secret}"),
    errors=parse_error,
    # The API docs list "301/302 HTTP Redirect ... ensure that your API client follows
    # redirects": reads follow them, to the same host only (never writes).
    follow_redirects=True,
)


def api_root(domain: str) -> str:
    """The API root of the account ``domain`` names (always https on Freshworks' hosts)."""
    host = DOMAIN.host(domain)
    # Freshworks-suite accounts (NAME.myfreshworks.com) serve the same API under
    # /crm/sales/api/; classic accounts (NAME.freshsales.io) under /api/.
    path = "/crm/sales/api/" if host.endswith(".myfreshworks.com") else "/api/"
    return https_url(host, path, DOMAIN.domains)


def web_root(domain: str) -> str | None:
    """The root of the account's web app, None when the domain is not usable.

    Not in the API docs: a record's page is ``<root><plural>/<id>`` by convention (the
    address the web app shows, ``https://acme.freshsales.io/deals/7``); Freshworks-suite
    accounts serve the CRM under ``/crm/sales/``, as they serve its API.
    """
    try:
        host = DOMAIN.host(domain)
        path = "/crm/sales/" if host.endswith(".myfreshworks.com") else "/"
        return https_url(host, path, DOMAIN.domains)
    except ValueError:
        return None
