"""URL policy: real vendors only over https; plain http only to loopback."""

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


def check_base_url(url: str) -> str:
    """Return ``url`` if it may be used, else raise ``InsecureURL`` saying why."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return url
    if parts.scheme == "http":
        raise InsecureURL(
            f"{url!r} uses plain http to a host that is not loopback; use https "
            "(plain http is allowed only for 127.0.0.1, ::1 and localhost sandboxes)"
        )
    raise InsecureURL(f"{url!r} is not an http(s) URL with a host")
