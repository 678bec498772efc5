"""How a vendor authenticates, declared: ``Vendor.connection`` names one of these, and the
base ``Vendor`` builds the session from it (on first use, never in ``__init__``).

Each names the profile's settings and secrets it uses (by ``Setting.name``); the values
are read from the profile when the session is built, and every secret is given to the
redactor so it never reaches a log, the cache or an error text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from crmtui.http.auth import HeaderTokenAuth
from crmtui.http.client import ErrorParser


@dataclass(frozen=True)
class Credentials:
    """What an auth builder gets: the profile's values and where the API is."""

    settings: Callable[[str], str]  # setting name -> value
    secrets: Callable[[str], str]  # secret name -> value
    base_url: str
    redact: Callable[[str], None]  # to hide a secret learnt later (a session cookie)


class Auth(ABC):
    """One way to authenticate."""

    @abstractmethod
    def flow(self, creds: Credentials) -> httpx.Auth | None:
        """The ``httpx.Auth`` that signs every request."""

    @abstractmethod
    def secret_names(self) -> tuple[str, ...]:
        """The profile secrets this auth sends (they are redacted everywhere)."""


@dataclass(frozen=True)
class HeaderToken(Auth):
    """A secret in one header: ``Authorization: Bearer <key>`` by default."""

    secret: str = "api_key"
    header: str = "Authorization"
    template: str = "Bearer {secret}"

    def flow(self, creds: Credentials) -> httpx.Auth:
        return HeaderTokenAuth(self.header, self.template, creds.secrets(self.secret))

    def secret_names(self) -> tuple[str, ...]:
        return (self.secret,)


class QueryTokenAuth(httpx.Auth):
    """Puts a secret into one query parameter of every request (``?api_key=<key>``)."""

    def __init__(self, param: str, secret: str) -> None:
        self._param = param
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_set_param(self._param, self._secret)
        yield request


@dataclass(frozen=True)
class QueryToken(Auth):
    """A secret in a query parameter of every request."""

    param: str
    secret: str = "api_key"

    def flow(self, creds: Credentials) -> httpx.Auth:
        return QueryTokenAuth(self.param, creds.secrets(self.secret))

    def secret_names(self) -> tuple[str, ...]:
        return (self.secret,)


@dataclass(frozen=True)
class Basic(Auth):
    """HTTP basic auth; ``user`` names a secret, or a setting when ``user_is_setting``."""

    user: str
    password: str
    user_is_setting: bool = False

    def flow(self, creds: Credentials) -> httpx.Auth:
        user = creds.settings(self.user) if self.user_is_setting else creds.secrets(self.user)
        return httpx.BasicAuth(user, creds.secrets(self.password))

    def secret_names(self) -> tuple[str, ...]:
        return (self.password,) if self.user_is_setting else (self.user, self.password)


@dataclass(frozen=True)
class Login(Auth):
    """A login flow the vendor's module writes (an ``httpx.Auth`` that logs in when it
    must): ``build`` makes it from the credentials; ``secrets`` are the profile secrets
    it sends. The adapter reaches it later as ``self.session.auth``."""

    build: Callable[[Credentials], httpx.Auth]
    secrets: tuple[str, ...] = ()

    def flow(self, creds: Credentials) -> httpx.Auth:
        return self.build(creds)

    def secret_names(self) -> tuple[str, ...]:
        return self.secrets


@dataclass(frozen=True)
class Connection:
    """All a vendor's session needs besides its base URL: the auth, the parser of its
    error bodies, and whether it follows redirects (only where the vendor's docs say it
    redirects; reads only, same origin only)."""

    auth: Auth
    errors: ErrorParser | None = None
    follow_redirects: bool = False


__all__ = [
    "Auth",
    "Basic",
    "Connection",
    "Credentials",
    "HeaderToken",
    "Login",
    "QueryToken",
    "QueryTokenAuth",
]
