"""Nothing leaked: no token, password or session cookie in logs, the cache, error texts or
the screen; real vendors only over verified https; private files; `crmtui forget`.

Each sandbox is told to accept a long random secret (``grant``), so a hit is a leak and
not a common word.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import secrets
import ssl
import stat
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from benchmarks.soak import PLANS, VENDORS, no_sleep, profile_for, unpace
from crmtui import cli, locations, sandbox, vendors
from crmtui.config import Config, ConfigError, write_private
from crmtui.http import BadResponse, CrmError, Http, InsecureURL
from crmtui.http.log import REDACTED, Redactor
from crmtui.http.urls import check_base_url
from crmtui.model import Query
from crmtui.sandbox.faults import FaultMiddleware
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.ui.app import CrmApp
from tests.helpers.reliability import Rig, build, close, grant

ROOT = Path(__file__).resolve().parents[2]


def random_secrets(vendor: str) -> dict[str, str]:
    return {key: f"s3cr3t{secrets.token_hex(16)}" for key in sandbox.info(vendor).secrets}


def cookies(app: Any) -> list[str]:
    """Session cookies the sandbox handed out (SalesSeek logs in with a cookie)."""
    return list(getattr(app.state.db, "sessions", {}) or {})


def store_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def leaks(values: list[str], haystacks: dict[str, str | bytes]) -> list[str]:
    found = []
    for where, text in haystacks.items():
        for value in values:
            needle: str | bytes = value.encode() if isinstance(text, bytes) else value
            if needle in text:  # type: ignore[operator]
                found.append(f"{where} holds {value[:8]}…")
    return found


async def exercise(rig: Rig) -> tuple[list[str], str]:
    """Browse, edit, meet faults and a refused key: the error texts seen on the way, and
    the refused key (a secret too)."""
    crm, vendor, plan = rig.crm, rig.vendor, rig.plan
    texts: list[str] = []
    ref = await rig.some(plan.browse)
    await crm.get(ref)
    await crm.timeline(ref)
    rig.fault("500", "429", "expire", "malformed")
    try:
        await crm.refresh(vendor, plan.browse, Query(per_page=3))
    except CrmError as exc:
        texts.append(str(exc))
    rig.repair()
    edit_ref = await rig.some()
    rig.fault("expire", "500", "500", "500", "500", "500")
    await crm.edit(edit_ref, {plan.edit_field: "Head of leaks"})
    await rig.settle()
    texts += [c.last_error or "" for c in crm.changes()]
    rig.repair()
    refused = f"wrong{secrets.token_hex(12)}"
    profile = profile_for(vendor, f"http://{vendor}.localhost", name="wrong")
    profile.secrets = dict.fromkeys(profile.secrets or {}, refused)
    other = vendors.load(vendor)(profile, crm.http)
    with pytest.raises(CrmError) as caught:
        await other.list_page(plan.browse, Query(per_page=1))
    texts.append(str(caught.value))
    return texts, refused


@pytest.mark.parametrize("vendor", VENDORS)
async def test_no_secret_in_logs_cache_or_errors(
    tmp_path: Path, vendor: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_values = random_secrets(vendor)
    path = tmp_path / "cache.sqlite3"
    rig = build(vendor, path, secrets=secret_values)
    try:
        texts, wrong = await exercise(rig)
        values = [*secret_values.values(), wrong, *cookies(rig.app)]
        log = "\n".join(
            f"{e.method} {e.path} {e.status} {e.error}" for e in rig.crm.http.log.entries
        )
        assert rig.crm.http.log.entries and any(
            e.status in (401, 403) for e in rig.crm.http.log.entries
        )
        haystacks: dict[str, str | bytes] = {
            "the request log": log,
            "python logging": caplog.text,
            "error texts": "\n".join(texts),
        }
    finally:
        await close(rig)
    haystacks["the cache file"] = store_bytes(path)
    assert caplog.text and texts
    assert leaks(values, haystacks) == []


def every_form(values: list[str], user: str) -> list[str]:
    """Each secret as a vendor or proxy may echo it: as is, HTTP Basic of every pair the
    vendors build (``key:secret``, ``key:``, ``key:X``, ``user:password``), URL-encoded
    (once, form-style, lower-case hex, twice) and JSON-escaped."""

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    forms = []
    for value in values:
        encoded = quote(value, safe="")
        forms += [
            value,
            b64(f"{value}:"),
            b64(f"{value}:X"),
            b64(f"{user}:{value}"),
            base64.urlsafe_b64encode(f"{value}:".encode()).decode(),
            encoded,
            quote_plus(value),
            encoded.lower(),
            quote(encoded, safe=""),
            "".join(f"%{byte:02X}" for byte in value.encode()),  # every byte escaped
            quote(value),  # "/" kept, as quote() does by default
            "".join(f"\\u{ord(c):04X}" for c in value),  # JSON, every character escaped
            b64(f"{value}:")[:6] + "\n" + b64(f"{value}:")[6:],  # base64 split by a line
            base64.encodebytes(f"{user}:{value}:{value}{value}".encode()).decode(),  # MIME
        ]
        forms += [b64(f"{value}:{other}") for other in values if other != value]
    return forms


_SECRET_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x17F, blacklist_categories=("Cc", "Cs")),
    min_size=8,
    max_size=40,
).filter(lambda text: text.strip() == text and len(set(text)) > 3)


def _encodings(secret: str, other: str, cut: int) -> dict[str, str]:
    """``secret`` written in each way a vendor, a proxy or a log may write it."""

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    basic = b64(f"{secret}:{other}")
    cut = cut % len(basic)
    escaped = json.dumps(secret)[1:-1]
    return {
        "raw": secret,
        "quote, / kept": quote(secret),
        "quote, nothing kept": quote(secret, safe=""),
        "quote, :@+= kept": quote(secret, safe="/:@+="),
        "quote, lower-case hex": re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(secret)),
        "quote_plus": quote_plus(secret),
        "quoted twice": quote(quote(secret, safe=""), safe=""),
        "JSON": escaped,
        "JSON, upper-case hex": re.sub(
            r"\\u[0-9a-f]{4}", lambda m: m.group().upper().replace("\\U", "\\u"), escaped
        ),
        "JSON, every character": "".join(f"\\u{ord(c):04x}" for c in secret),
        "JSON, every character, upper": "".join(f"\\u{ord(c):04X}" for c in secret),
        "JSON, PHP slashes": escaped.replace("/", "\\/"),
        "HTML": html.escape(secret),
        "HTML numeric": "".join(f"&#{ord(c)};" for c in secret),
        "Basic": basic,
        "Basic, URL-safe": base64.urlsafe_b64encode(f"{secret}:{other}".encode()).decode(),
        "Basic of key:": b64(f"{secret}:"),
        "base64 split by a line break": basic[:cut] + "\n" + basic[cut:],
        "base64 split by a blank": basic[:cut] + " " + basic[cut:],
        "base64, MIME lines of 76": base64.encodebytes(
            f"{secret}:{other}:{secret}".encode()
        ).decode(),
        "base64 of base64": b64(basic),
        "base64 of UTF-16": base64.b64encode(secret.encode("utf-16-le")).decode(),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=_SECRET_TEXT, other=_SECRET_TEXT, cut=st.integers(1, 200))
def test_every_encoding_of_a_random_secret_is_redacted(secret: str, other: str, cut: int) -> None:
    """Whatever the secret, however it is encoded (URL with any safe set, JSON with every
    character escaped or upper-case hex, base64 wrapped or split across lines...), the
    redacted text holds neither the secret nor its encoding, and little else is lost."""
    redact = Redactor()
    redact.add(secret, other)
    for name, form in _encodings(secret, other, cut).items():
        text = f"Refused [{form}] here"
        out = redact(text)
        assert secret not in out and form not in out, (name, form, out)
        assert out.startswith("Refused [") and out.endswith("] here"), (name, form, out)
        assert len(out) <= len(text) and REDACTED in out, (name, form, out)


class EchoCredentials:
    """A proxy (or a careless vendor) in front of a sandbox: it answers each write with
    the vendor's own error body, quoting the request's credentials in every form."""

    def __init__(self, app: Any, forms: list[str]) -> None:
        self.app = app
        self.forms = forms
        self.echoed = 0
        middleware = next(m for m in app.user_middleware if m.cls is FaultMiddleware)
        self.error = middleware.kwargs["error"]  # the vendor's own error body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if (
            scope["type"] != "http"
            or request.method == "GET"
            or request.url.path.endswith("/login")
        ):
            await self.app(scope, receive, send)
            return
        self.echoed += 1
        headers = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
        quoted = json.dumps(dict(request.headers))
        echo = " ".join(
            [
                f"Invalid request. You sent {headers}.",
                f"Headers {quoted}.",
                *(f"Authorization: Basic {form} / token {form}" for form in self.forms),
            ]
        )
        await self.error(422, echo)(scope, receive, send)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_echoed_credentials_never_reach_the_user_nor_the_cache(
    tmp_path: Path, vendor: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A 422 quoting ``Authorization: Basic <base64(key:secret)>`` and every other form:
    the error shown and the outbox's ``last_error`` in the SQLite file hold none."""
    caplog.set_level(logging.DEBUG)
    secret_values = random_secrets(vendor)
    path = tmp_path / "cache.sqlite3"
    rig = build(vendor, path, secrets=secret_values)
    notices: list[str] = []
    try:
        ref = await rig.some()
        settings = rig.crm.adapter(vendor).profile.settings or {}
        values = [*secret_values.values(), *cookies(rig.app)]
        forms = every_form(values, settings.get("email", "rep@example.com"))
        echo = EchoCredentials(rig.app, forms)
        rig.crm.http.mount_app(f"http://{vendor}.localhost", echo)
        rig.crm.subscribe(lambda event: notices.append(repr(event)))
        change = await rig.crm.edit(ref, {rig.plan.edit_field: "Head of leaks"})
        await rig.settle()
        values += cookies(rig.app)  # a login on the way made a new session
        forms = every_form(values, settings.get("email", "rep@example.com"))
        failed = rig.crm.store.get_change(change.id)
        assert echo.echoed and failed is not None and failed.last_error
        assert "Invalid request" in failed.last_error  # the vendor's words still show
        log = "\n".join(repr(e) for e in rig.crm.http.log.entries)
        texts: dict[str, str | bytes] = {
            "the error": failed.last_error,
            "notices": "\n".join(notices),
            "the request log": log,
            "python logging": caplog.text,
            "the open cache and its -wal": store_bytes(path),
        }
        assert Path(f"{path}-wal").exists()
        assert b"Invalid request" in store_bytes(path)  # the error is in the file...
        assert leaks(forms, texts) == []  # ...and no form of a secret
    finally:
        await close(rig)
    assert leaks(forms, {"the closed cache file": store_bytes(path)}) == []


@pytest.mark.parametrize("how", ["adapter bug", "typed error from a cause"])
async def test_a_traceback_a_notebook_prints_holds_no_secret(tmp_path: Path, how: str) -> None:
    """``raise ... from exc`` keeps the cause, and a traceback prints it: an error leaving
    the service never carries a secret in its chain (``from None`` or the chain cut)."""
    vendor = "freshsales"
    secret_values = random_secrets(vendor)
    key = next(iter(secret_values.values()))
    rig = build(vendor, tmp_path / "cache.sqlite3", secrets=secret_values)
    adapter = rig.crm.adapter(vendor)

    async def broken(kind: str, query: Query) -> Any:
        cause = ValueError(f"invalid literal for int() with base 10: {key!r}")
        if how == "adapter bug":
            raise cause
        raise BadResponse(adapter.label, f"the total was {key}") from cause

    adapter.list_page = broken  # type: ignore[method-assign]
    try:
        with pytest.raises(CrmError) as caught:
            await rig.crm.refresh(vendor, "contact", Query(per_page=3))
    finally:
        await close(rig)
    shown = "".join(traceback.format_exception(caught.value))
    assert "Traceback" in shown and caught.value.vendor == "Freshsales"
    assert key not in shown and key not in repr(caught.value.args)


def many(tmp_path: Path) -> tuple[Crm, dict[str, Any], list[str]]:
    """One service over all five sandboxes, each with its own random secrets."""
    http = Http(sleep=no_sleep)
    profiles, apps, values = [], {}, []
    for vendor in VENDORS:
        app = sandbox.create_app(vendor, rate_limit=False)
        origin = f"http://{vendor}.localhost"
        http.mount_app(origin, app)
        profile = profile_for(vendor, origin)
        profile.secrets = random_secrets(vendor)
        grant(vendor, app, profile.secrets, profile.settings or {})
        profiles.append(profile)
        apps[vendor] = app
        values += profile.secrets.values()
    crm = Crm(Store(tmp_path / "ui.sqlite3"), http, profiles)
    unpace(crm, virtual=True)
    return crm, apps, values


async def test_the_request_log_screen_shows_no_secret(tmp_path: Path) -> None:
    from crmtui.ui.screens.log import RequestLogScreen

    crm, apps, values = many(tmp_path)
    app = CrmApp(crm, steady_status=True)
    async with app.run_test(size=(160, 50)) as pilot:
        for vendor in VENDORS:
            await crm.refresh(vendor, PLANS[vendor].browse, Query(per_page=3))
        apps["salesforceiq"].state.faults.update({"next": ["expire"]})
        with pytest.raises(CrmError):
            await crm.refresh("salesforceiq", PLANS["salesforceiq"].browse, Query(per_page=3))
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, RequestLogScreen)
        shot = Path(app.save_screenshot(path=str(tmp_path), filename="log.svg"))
        svg = shot.read_text(encoding="utf-8")
        values += cookies(apps["salesseek"])
        assert "GET" in svg and "401" in svg
        assert (
            leaks(values, {"the request log screen": svg, "live svg": app.export_screenshot()})
            == []
        )


def test_stored_snapshots_show_no_credential_header() -> None:
    shots = list((ROOT / "tests").rglob("*.svg")) + list((ROOT / "tests").rglob("*.ambr"))
    for shot in shots:
        text = shot.read_text(encoding="utf-8", errors="replace")
        for header in ("Token token=", "Api-Token", "Authorization", "Bearer ", "Cookie:"):
            assert header not in text, f"{shot.name} shows {header}"


# -- transport policy --------------------------------------------------------------------


async def test_the_client_verifies_certificates() -> None:
    http = Http()
    try:
        pool = http.transport._default._pool  # type: ignore[attr-defined]
        context: ssl.SSLContext = pool._ssl_context
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    "url",
    ["http://acme.freshsales.io/api/", "http://10.0.0.5/api/", "ftp://x/", "http:///api"],
)
def test_plain_http_to_the_world_is_refused(url: str) -> None:
    with pytest.raises(InsecureURL):
        check_base_url(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/api/", "http://[::1]/v2/", "http://localhost/"]
)
def test_loopback_sandboxes_may_use_http(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_base_url_off_the_vendors_domains_needs_an_explicit_opt_in(
    vendor: str, tmp_path: Path
) -> None:
    """``base_url = "https://evil.example/api/"`` would send the key there: refused when
    the config loads (the key named, a good value shown) and by the adapter for a
    notebook's own ``Profile``; accepted only with ``allow_other_host = true``."""
    cls = vendors.load(vendor)
    secret_keys = [s.name for s in cls.settings if s.secret]
    extra = "".join(f'{key}_env = "K_{key.upper()}"\n' for key in secret_keys)
    environ = {f"K_{key.upper()}": "s3cr3t-value-1234" for key in secret_keys}
    settings = "".join(
        f'{s.name} = "{s.example or "rep@example.com"}"\n'
        for s in cls.settings
        if not s.secret and s.required
    )
    config = tmp_path / "config.toml"
    profile = f'[profiles.p]\nvendor = "{vendor}"\n{settings}{extra}'
    config.write_text(profile + 'base_url = "https://evil.example/api/"\n')
    with pytest.raises(ConfigError) as caught:
        Config.load(config).profiles["p"].resolve(environ)
    message = str(caught.value)
    assert "base_url" in message and "allow_other_host = true" in message
    assert f'e.g. base_url = "{cls.example_base_url()}"' in message
    assert cls.example_base_url().startswith("https://")
    config.write_text(profile + 'base_url = "https://evil.example/api/"\nallow_other_host = true\n')
    resolved = Config.load(config).profiles["p"].resolve(environ)
    assert resolved.allow_other_host and resolved.base_url == "https://evil.example/api/"
    for own in (cls.example_base_url(), "http://127.0.0.1:8001/api/"):
        config.write_text(profile + f'base_url = "{own}"\n')
        assert Config.load(config).profiles["p"].resolve(environ).base_url == own

    sent: list[str] = []
    http = Http(
        network=httpx.MockTransport(lambda r: sent.append(str(r.url)) or httpx.Response(401))
    )
    notebook = profile_for(vendor, "https://evil.example/api/")
    try:
        with pytest.raises(InsecureURL, match="allow_other_host"):
            cls(notebook, http)
    finally:
        await http.aclose()
    assert sent == []


@pytest.mark.parametrize("vendor", VENDORS)
async def test_real_vendors_are_https_and_next_links_too(vendor: str) -> None:
    cls = vendors.load(vendor)
    info = sandbox.info(vendor)
    profile = profile_for(vendor, "http://unused.localhost")
    profile.base_url = None
    profile.settings = dict(info.settings) or {"domain": "acme", "account": "acme"}
    assert cls.default_base_url(profile).startswith("https://")
    http = Http()
    try:
        adapter = cls(profile, http)
        with pytest.raises(InsecureURL):
            adapter.session.url("http://evil.example.com/api/contacts?page=2")
    finally:
        await http.aclose()


# -- files ----------------------------------------------------------------------------


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_config_and_cache_files_are_private(tmp_path: Path) -> None:
    write_private(tmp_path / "x" / "config.toml", "theme = 'a'\n")
    assert private(tmp_path / "x" / "config.toml")
    config = Config(path=tmp_path / "y" / "config.toml")
    config.save()
    assert private(config.path)
    store = Store(tmp_path / "cache.sqlite3")
    store.put_kinds("p", [])
    assert private(tmp_path / "cache.sqlite3")
    for extra in (tmp_path / "cache.sqlite3-wal", tmp_path / "cache.sqlite3-shm"):
        if extra.exists():
            assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0
    store.close()


async def test_forget_removes_a_profiles_cached_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRMTUI_HOME", str(tmp_path / "home"))
    path = locations.cache_db()
    path.parent.mkdir(parents=True)
    kept, gone = build("activecampaign", path), None
    await kept.crm.refresh("activecampaign", "deal", Query(per_page=20))
    await close(kept)
    gone = build("freshsales", path)
    gone.crm.states["zz-forget-me"] = gone.crm.states.pop("freshsales")
    gone.crm.states["zz-forget-me"].profile.name = "zz-forget-me"
    page = await gone.crm.adapter("zz-forget-me").list_page("contact", Query(per_page=20))
    gone.crm.store.upsert_records(
        [r.model_copy(update={"profile": "zz-forget-me"}) for r in page.records]
    )
    assert gone.crm.count("zz-forget-me", "contact") == 20
    await close(gone)

    assert cli.main(["forget", "zz-forget-me"]) == 0
    assert "zz-forget-me" in capsys.readouterr().out
    store = Store(path)
    try:
        assert store.count("zz-forget-me", "contact") == 0
        assert store.count("activecampaign", "deal") == 20
    finally:
        store.close()
    assert b"zz-forget-me" not in store_bytes(path)
    assert os.environ["CRMTUI_HOME"] in str(path)


@pytest.mark.parametrize(
    "written",
    [
        "0000%01\\u00A1",  # JSON-escaped by a writer, the secret's own "%01" left as is
        "0000%01&#161;",  # HTML numeric escape, "%01" left as is
        "0000%2501%C2%A1",  # URL-encoded: its "%" escaped too
    ],
)
def test_a_secret_holding_escape_look_alikes_is_redacted_in_one_family(written: str) -> None:
    """A secret that itself holds "%01" and is written with one family of escapes (JSON,
    HTML, URL) is found: undoing every family at once would turn its "%01" into a byte."""
    redact = Redactor()
    redact.add("0000%01¡")
    out = redact(f"Refused [{written}] here")
    assert out == "Refused [•••] here"


def test_a_form_body_holding_the_url_encoded_secret_echoed_in_base64_is_redacted() -> None:
    """A proxy echoing the request body (``api_key=<URL-encoded secret>``) in base64."""
    secret = "Xq9#p@ss/w+rd=&%:Zz~"
    redact = Redactor()
    redact.add(secret)
    for body in (f"api_key={quote(secret, safe='')}", f"api_key={quote_plus(secret)}&x=1"):
        echoed = base64.b64encode(body.encode()).decode()
        out = redact(f"echo: {echoed}")
        assert echoed not in out and REDACTED in out, (body, out)
