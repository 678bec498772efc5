"""Settings that become URLs: a hostile value never sends a request (or a secret) elsewhere.

Every vendor's URL-building settings (from its declared ``Setting.kind``) and every
profile's ``base_url`` are tried with URL-injection values: the config refuses each in one
line naming the key and showing a good example; a profile built around the config (as a
script could) never reaches a foreign host either, as a recording transport shows.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmtui import vendors
from crmtui.config import Config, ConfigError
from crmtui.http import CrmError, Http
from crmtui.vendors.base import Profile, SettingKind

HOSTILE = [
    "attacker.example/",
    "attacker.example",
    "attacker.example#",
    "attacker.example?",
    "attacker.example/?x=",
    "user@attacker.example",
    "acme@attacker.example",
    "attacker.example%2f",
    "attacker%2eexample",
    "attacker%40example",
    "attacker\u3002example",  # ideographic full stop
    "attacker\uff0eexample",  # fullwidth full stop
    "attacker\uff61example",  # halfwidth ideographic full stop
    "acme attacker.example",
    "acme\tattacker.example",
    "acme\n.attacker.example",
    "acme\u00a0attacker.example",
    "acme\u200b",
    "attacker.example\\",
    "attacker.example:443",
    "acme.freshsales.io.attacker.example",
    "acme.salesseek.net.attacker.example",
    "acme.api-us1.com.attacker.example",
    "[::1]",
    "..",
    "acme/../",
    "-acme",
    "a" * 64,
    "\uff21\uff23\uff2d\uff25",  # fullwidth ACME
]

HOSTILE_BASE_URLS = [
    "https://attacker.example@acme.freshsales.io/api/",
    "https://acme.freshsales.io@attacker.example/api/",
    "https://acme.freshsales.io/api/?next=https://attacker.example/",
    "https://acme.freshsales.io/api/#x",
    "https://acme.freshsales.io\\@attacker.example/api/",
    "https://acme.freshsales.io /api/",
    "https://acme.freshsales.io\t/api/",
    "http://attacker.example/api/",
    "ftp://attacker.example/",
    "attacker.example/api/",
    "//attacker.example/api/",
]


def url_settings() -> list[tuple[str, str]]:
    """(vendor, setting) for every setting of every vendor that becomes part of a URL."""
    found = []
    for name in sorted(vendors.available()):
        for setting in vendors.load(name).settings:
            if setting.kind is SettingKind.HOST_LABEL:
                found.append((name, setting.name))
    return found


def good_values(vendor: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for setting in vendors.load(vendor).settings:
        if setting.secret:
            values[f"{setting.name}_env"] = "SECRET_VAR"
        else:
            values[setting.name] = setting.example or "acme"
    return values


def write_profile(path: Path, vendor: str, values: dict[str, str]) -> Path:
    lines = ["[profiles.acme]", f'vendor = "{vendor}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Recorder(httpx.AsyncBaseTransport):
    """Answers every request 401 and remembers the host it was meant for."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        return httpx.Response(401, json={"message": "no"}, request=request)


def test_every_vendor_with_an_account_host_declares_it() -> None:
    assert {v for v, _ in url_settings()} == {"activecampaign", "freshsales", "salesseek"}
    assert ("freshsales", "domain") in url_settings()
    assert ("activecampaign", "account") in url_settings()
    assert ("salesseek", "client_id") in url_settings()


@pytest.mark.parametrize(("vendor", "key"), url_settings())
@pytest.mark.parametrize("value", HOSTILE)
def test_config_refuses_a_hostile_host_setting_in_one_line(
    tmp_path: Path, vendor: str, key: str, value: str
) -> None:
    values = {**good_values(vendor), key: value}
    with pytest.raises(ConfigError) as info:
        Config.load(write_profile(tmp_path / "config.toml", vendor, values))
    text = str(info.value)
    assert len(text.splitlines()) == 1, text
    assert f"{key} = " in text
    assert 'e.g. "' in text  # an example of a good value


@pytest.mark.parametrize("vendor", sorted(vendors.available()))
@pytest.mark.parametrize("url", HOSTILE_BASE_URLS)
def test_config_refuses_a_hostile_base_url_in_one_line(
    tmp_path: Path, vendor: str, url: str
) -> None:
    values = {**good_values(vendor), "base_url": url}
    with pytest.raises(ConfigError) as info:
        Config.load(write_profile(tmp_path / "config.toml", vendor, values))
    text = str(info.value)
    assert len(text.splitlines()) == 1, text
    assert "base_url = " in text and "e.g." in text
    assert "attacker.example@" not in text  # a user:password@ part is never echoed


@pytest.mark.parametrize(
    ("vendor", "key", "value", "host"),
    [
        ("freshsales", "domain", "acme", "acme.freshsales.io"),
        ("freshsales", "domain", "Acme.freshsales.io", "acme.freshsales.io"),
        ("freshsales", "domain", "acme.myfreshworks.com", "acme.myfreshworks.com"),
        ("activecampaign", "account", "acme", "acme.api-us1.com"),
        ("salesseek", "client_id", "acme-eu", "acme-eu.salesseek.net"),
    ],
)
async def test_good_values_reach_the_vendor_host(
    tmp_path: Path, vendor: str, key: str, value: str, host: str
) -> None:
    values = {**good_values(vendor), key: value}
    config = Config.load(write_profile(tmp_path / "config.toml", vendor, values))
    profile = config.profiles["acme"].resolve({"SECRET_VAR": "s3cret"})
    recorder = Recorder()
    http = Http(network=recorder, max_retries=0)
    try:
        adapter = vendors.load(vendor)(profile, http)
        with contextlib.suppress(CrmError):  # the recorder answers 401
            await adapter.session.request("GET", "users/me")
    finally:
        await http.aclose()
    assert recorder.hosts and set(recorder.hosts) == {host}


@pytest.mark.parametrize(("vendor", "key"), url_settings())
@pytest.mark.parametrize("value", HOSTILE)
async def test_a_profile_built_past_the_config_never_reaches_another_host(
    vendor: str, key: str, value: str
) -> None:
    settings = {s.name: s.example or "acme" for s in vendors.load(vendor).settings}
    settings[key] = value
    secrets = {s.name: "s3cret" for s in vendors.load(vendor).settings if s.secret}
    profile = Profile(name="acme", vendor=vendor, settings=settings, secrets=secrets)
    recorder = Recorder()
    http = Http(network=recorder, max_retries=0)
    try:
        with pytest.raises((ValueError, CrmError)):  # refused at once, or 401 from the recorder
            adapter = vendors.load(vendor)(profile, http)
            await adapter.session.request("GET", "users/me")
    finally:
        await http.aclose()
    own = {d for s in vendors.load(vendor).settings for d in s.domains}
    assert all(any(h.endswith("." + d) for d in own) for h in recorder.hosts), recorder.hosts
    assert not [h for h in recorder.hosts if "attacker" in h]


HOST_CHARS = st.characters(codec="utf-8") | st.sampled_from(list("./@#?%:\\[] \t\n-"))


@pytest.mark.parametrize(("vendor", "key"), url_settings())
@given(value=st.text(HOST_CHARS, max_size=40) | st.from_regex(r"[a-z]{1,8}[./@#?%:][a-z.]{0,20}"))
@settings(max_examples=150, deadline=None)
def test_any_value_gives_a_vendor_host_or_a_refusal(vendor: str, key: str, value: str) -> None:
    setting = next(s for s in vendors.load(vendor).settings if s.name == key)
    try:
        host = setting.host(value)
    except ValueError as exc:
        assert "e.g." in str(exc)
        return
    url = httpx.URL(
        vendors.load(vendor).default_base_url(
            Profile(name="p", vendor=vendor, settings={key: value})
        )
    )
    assert url.host == host
    assert any(host.endswith("." + d) for d in setting.domains)
    assert host.count(".") == 1 + min(d.count(".") for d in setting.domains if host.endswith(d))
    assert not (url.userinfo or url.query or url.fragment)
