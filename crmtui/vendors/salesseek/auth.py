"""SalesSeek's cookie session and its error bodies.

``CookieLogin`` posts the profile's email and password (form-encoded) to ``/api/login``
when it has no cookie, keeps the ``salesseek`` cookie in memory only (and gives it to the
redactor: it is a secret too), and on a 401 logs in once more and retries the request
once, so an expired session never reaches the user.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from http.cookies import CookieError, SimpleCookie
from typing import Any

import httpx

from crmtui.http.client import json_object
from crmtui.vendors.auth import Credentials

COOKIE = "salesseek"


def parse_error(response: httpx.Response) -> str | None:
    """SalesSeek's error body: ``{"detail": "..."}``."""
    body = json_object(response)
    return str(body["detail"]) if body and body.get("detail") else None


class CookieLogin(httpx.Auth):
    """Cookie-session auth: logs in when needed, and once more after a 401."""

    requires_response_body = True

    def __init__(
        self,
        login_url: str,
        email: str,
        password: str,
        on_cookie: Callable[[str], None] | None = None,
    ) -> None:
        self._login_url = login_url
        self._on_cookie = on_cookie  # e.g. the redactor: the cookie is a secret too
        self._email = email
        self._password = password
        self.cookie: str | None = None  # in memory only
        self.me: dict[str, Any] | None = None  # the login answer: the user and the account
        self.logins = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.cookie is None:
            login = yield self._login()
            if not self._accept(login):
                return  # the login's own refusal is the answer
        sent = self._sign(request)
        response = yield request
        if response.status_code != 401:
            return
        if self.cookie == sent:  # nobody has logged in again since: do it
            self.cookie = None
            login = yield self._login()
            if not self._accept(login):
                return
        self._sign(request)
        yield request

    def _login(self) -> httpx.Request:
        self.logins += 1
        return httpx.Request(
            "POST",
            self._login_url,
            data={"email_address": self._email, "password": self._password},
            headers={"Accept": "application/json"},
        )

    def _sign(self, request: httpx.Request) -> str | None:
        request.headers["Cookie"] = f"{COOKIE}={self.cookie}"
        return self.cookie

    def _accept(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            if COOKIE in jar and jar[COOKIE].value:
                self.cookie = jar[COOKIE].value
                if self._on_cookie is not None:
                    self._on_cookie(self.cookie)
        self.me = json_object(response)  # read as every reply is: its text made whole
        return self.cookie is not None


def cookie_login(creds: Credentials) -> CookieLogin:
    """The login of a profile: its email and password, posted to ``<api>/login``; the
    cookie it gets is given to the redactor."""
    return CookieLogin(
        creds.base_url.rstrip("/") + "/login",
        creds.settings("email"),
        creds.secrets("password"),
        on_cookie=creds.redact,
    )
