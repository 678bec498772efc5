"""URL policy: real vendors only over https; plain http only to loopback.

A base URL is the root every request path is joined to, so it may hold no user name or
password (httpx would send them as HTTP Basic), no ``?query`` and no ``#fragment`` (a
path joined after them would not be a path). An absolute URL a session is asked to
fetch (a vendor's "next" link) must be on the session's own origin, so the profile's
credentials never go to another host. Messages show a URL without its user
information and query, which may hold secrets.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from crmtui.http.errors import InsecureURL


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True  # RFC 6761: .localhost names always resolve to loopback
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown(url: str) -> str:
    """``url`` as it may be shown: no user information, query or fragment."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path


def check_url(url: str) -> str:
    """Return ``url`` if it may be fetched (https, or http to loopback; no user@)."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        raise InsecureURL(f"{shown(url)!r} is not a valid URL") from None
    if "@" in parts.netloc:
        raise InsecureURL(
            f"{shown(url)!r} holds a user name or password; put credentials in the "
            "profile's secret settings, never in a URL"
        )
    if parts.scheme == "https" and hostname:
        return url
    if parts.scheme == "http" and hostname and is_loopback_host(hostname):
        return url
    if parts.scheme == "http":
        raise InsecureURL(
            f"{shown(url)!r} uses plain http to a host that is not loopback; use https "
            "(plain http is allowed only for 127.0.0.1, ::1 and localhost sandboxes)"
        )
    raise InsecureURL(f"{shown(url)!r} is not an http(s) URL with a host")


def check_base_url(url: str) -> str:
    """Return ``url`` if it may be a base URL, else raise ``InsecureURL`` saying why."""
    check_url(url)
    parts = urlsplit(url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise InsecureURL(
            f"{shown(url)!r} holds a ?query or #fragment; a base URL is the API root only"
        )
    return url


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on ``base``'s scheme, host and port."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
