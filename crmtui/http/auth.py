"""Per-vendor authentication as ``httpx.Auth`` classes."""

from __future__ import annotations

from collections.abc import Generator

import httpx


class HeaderTokenAuth(httpx.Auth):
    """Puts a secret into one header, e.g. ``Authorization: Token token=<key>``."""

    def __init__(self, header: str, template: str, secret: str) -> None:
        self._header = header
        self._value = template.format(secret=secret)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._value
        yield request


def bearer(secret: str) -> HeaderTokenAuth:
    return HeaderTokenAuth("Authorization", "Bearer {secret}", secret)


def basic(user: str, password: str) -> httpx.BasicAuth:
    return httpx.BasicAuth(user, password)
