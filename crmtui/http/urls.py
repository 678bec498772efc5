"""URL policy: real vendors only over https; plain http only to loopback.

A base URL is the root every request path is joined to, so it may hold no user name or
password (httpx would send them as HTTP Basic), no ``?query`` and no ``#fragment`` (a
path joined after them would not be a path), and a valid port. An absolute URL a
session is asked to fetch (a vendor's "next" link) must be on the session's own origin,
so the profile's credentials never go to another host. Messages show a URL without its
user information and query, which may hold secrets.

Plain http (decision): a request in cleartext may go only where no DNS answer can move
it. That is a literal loopback address (``127.0.0.0/8``, ``::1``) or exactly
``localhost`` (the hosts file answers it). A ``NAME.localhost`` origin is *not*
loopback by itself: the system resolver (nsswitch ``hosts: files dns``) asks DNS for
it, and a DNS answer would then decide where the key goes in cleartext. Such an origin
is served only when it is mounted in-process (``Http.mount_app``: the demo and the
tests mount each sandbox at ``http://<vendor>.localhost``, which never touches the
network); ``is_local_name`` tells it apart, ``Http`` refuses an unmounted one.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import httpx

from crmtui.http.errors import InsecureURL

LOOPBACK_EXAMPLE = "http://127.0.0.1:8001/api/"
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")  # as urlsplit gives it: lower-case


def is_loopback_host(host: str) -> bool:
    """A literal loopback address or exactly ``localhost``: no DNS answer can move it."""
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_name(host: str) -> bool:
    """A ``NAME.localhost`` host (RFC 6761): plain http to it only when mounted in-process."""
    host = host.lower()
    name = host.removesuffix(".localhost")
    return name != host and _HOST.fullmatch(name) is not None


def shown(url: str) -> str:
    """``url`` as it may be shown: no user information, query or fragment.

    Everything between ``//`` and the last ``@`` goes, even where a parser would not
    read it as user information (``https://u:pass/word@host/``): it may be a password.
    """
    if "@" in url:
        head, _, rest = url.partition("//")
        url = f"{head}//…@{rest.rpartition('@')[2]}" if rest else url.rpartition("@")[2]
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path


def _parse(url: str) -> tuple[str, str, int | None]:
    """The URL's scheme, host and port, or ``InsecureURL`` if it is not a valid URL."""
    example = f'e.g. "https://acme.freshsales.io/api/" or "{LOOPBACK_EXAMPLE}"'
    try:
        parts = urlsplit(url)
        hostname = parts.hostname or ""
    except ValueError:  # the reason may quote the value: not repeated
        raise InsecureURL(
            f"{shown(url)!r} is not a valid URL (it holds characters that Unicode "
            f"normalisation (NFKC) turns into URL syntax); {example}"
        ) from None
    try:
        port = parts.port  # ValueError for "80:81", "99999", "u:pass"...
    except ValueError:
        raise InsecureURL(
            f"{shown(url)!r} is not a valid URL (its port is not a number from 1 to "
            f"65535); {example}"
        ) from None
    try:
        httpx.URL(url)  # what will really be sent must parse too
    except (ValueError, httpx.InvalidURL):
        raise InsecureURL(f"{shown(url)!r} is not a valid URL; {example}") from None
    if "@" in parts.netloc or "@" in url.partition("?")[0].partition("#")[0]:
        raise InsecureURL(
            f"{shown(url)!r} holds a user name or password; put credentials in the "
            "profile's secret settings, never in a URL"
        )
    if parts.scheme not in ("http", "https") or not hostname:
        raise InsecureURL(f"{shown(url)!r} is not an http(s) URL with a host; {example}")
    if not (_HOST.fullmatch(hostname) or _is_ip(hostname)) or "%" in hostname:
        # "%" also refuses an IPv6 zone ("[::1%25eth0]"): a zone picks an interface
        raise InsecureURL(f"{shown(url)!r} does not name a valid host; {example}")
    return parts.scheme, hostname, port


def valid_address(url: str) -> bool:
    """Whether ``url`` names a host and port that can be reached (a redirect's target)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - ValueError for a bad port
    except ValueError:
        return False
    return bool(_HOST.fullmatch(host) or _is_ip(host)) and "%" not in host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_url(url: str) -> str:
    """Return ``url`` if it may be fetched (https, or http to loopback; no user@).

    ``http://NAME.localhost`` passes here; ``Http`` serves it only when mounted
    in-process (see the module notes).
    """
    scheme, hostname, _port = _parse(url)
    if scheme == "https":
        return url
    if is_loopback_host(hostname) or is_local_name(hostname):
        return url
    raise InsecureURL(
        f"{shown(url)!r} uses plain http to a host that is not loopback; use https "
        f"(plain http is allowed only for 127.0.0.1, ::1 and localhost sandboxes, "
        f'e.g. "{LOOPBACK_EXAMPLE}")'
    )


def check_base_url(url: str) -> str:
    """Return ``url`` if it may be a base URL, else raise ``InsecureURL`` saying why."""
    check_url(url)
    parts = urlsplit(url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise InsecureURL(
            f"{shown(url)!r} holds a ?query or #fragment; a base URL is the API root only"
        )
    return url


def origin(url: str | httpx.URL) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, as in-process mounts are keyed."""
    parsed = httpx.URL(str(url))
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}".lower()


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on ``base``'s scheme, host and port."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
