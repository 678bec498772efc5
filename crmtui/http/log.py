"""The request log: what the client sent and got, with secrets redacted."""

from __future__ import annotations

import base64
import binascii
import html
import json
import logging
import re
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, quote_plus, unquote, unquote_to_bytes

from crmtui.model import utcnow

logger = logging.getLogger("crmtui.http")

REDACTED = "•••"
_SECRET_PARAMS = re.compile(
    r"(?i)((?:api[_-]?key|token|password|secret|access_token|auth)=)[^&\s]+"
)

# A cookie's value in a header as httpcore's trace logs it: (b'Set-Cookie', b'name=value;...').
_COOKIE_VALUES = re.compile(r"(?i)((?:set-)?cookie'?,\s*b?'[^=;']+=)[^;'\s]+")

# A credential header echoed in any shape: "Authorization: Basic x", JSON
# {"Authorization": "Bearer x"}, httpcore's (b'Api-Token', b'x'), "Cookie=a=b; c=d".
# The value runs to the end of the line or to the quote that closes it.
_HEADERS = re.compile(
    r"(?i)\b(proxy-authorization|authorization|api-token|x-api-key|x-auth-token|"
    r"set-cookie|cookie)\b(\\?[\"']?\s*[:=]\s*\\?[\"']?|[\"']\s*,\s*(?-i:b)?[\"'])((?:[^\r\n\"'\\]|\\/)*)"
)
_SCHEME = re.compile(r"(?i)^(\s*(?:basic|bearer|token|digest|negotiate)\b\s*)")
_COOKIE_PAIR = re.compile(r"(=)[^;,\s]+")
# A scheme and its credential outside a header line: "... Bearer eyJhb..." / "Basic dXNl...".
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/-]{8,}=*)")
# Runs holding percent-escapes, e.g. a secret over-encoded ("%2D" for "-").
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[^\s%&=?/\"'<>;,]){3,}")
# Runs that may be base64 (standard or URL-safe), e.g. a Basic credential echoed back.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{6,}={0,2}")


def _forms(secret: str) -> set[str]:
    """The ways ``secret`` is written as text: as typed, percent-encoded (upper- and
    lower-case hex, form-encoded, twice-encoded), JSON-escaped and HTML-escaped."""
    encoded = quote(secret, safe="")
    forms = {
        secret,
        encoded,
        quote_plus(secret),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded),
        quote(encoded, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),  # as PHP writes JSON
        html.escape(secret),
    }
    return {form for form in forms if form}


def _b64decode(text: str) -> bytes | None:
    altchars = b"-_" if ("-" in text or "_" in text) else None
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, altchars=altchars)
    except (binascii.Error, ValueError):
        return None


class Redactor:
    """Removes secrets from text that may be shown, logged or stored.

    Every registered secret in every form (``_forms``), any base64 run that decodes to
    something holding a registered secret (HTTP Basic of ``key:secret``, ``key:``,
    ``key:X``, ``user:password``...), the value of every credential header however it
    is quoted (Authorization with its scheme, Api-Token, X-Api-Key, Cookie and
    Set-Cookie values), a Bearer or Basic credential anywhere, and secret-looking
    query values (``api_key=``, ``token=``...) all become •••.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._raw: set[bytes] = set()

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= 3:
                self._secrets.update(_forms(secret))
                self._raw.add(secret.encode())

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        if self._raw:
            text = _BASE64_RUN.sub(self._base64, text)
            if "%" in text:
                text = _PERCENT_RUN.sub(self._percent, text)
        text = _HEADERS.sub(_header, text)
        text = _SCHEME_VALUE.sub(rf"\1\2{REDACTED}", text)
        text = _COOKIE_VALUES.sub(rf"\1{REDACTED}", text)
        return _SECRET_PARAMS.sub(rf"\1{REDACTED}", text)

    def _percent(self, match: re.Match[str]) -> str:
        run = match.group()
        if "%" in run:
            decoded = unquote_to_bytes(unquote(run))  # once or twice encoded
            if any(secret in decoded for secret in self._raw):
                return REDACTED
        return run

    def _base64(self, match: re.Match[str]) -> str:
        run = match.group().rstrip("=")
        for start in range(4):  # the run may begin part-way through a base64 quantum
            decoded = _b64decode(run[start:])
            if decoded and any(secret in decoded for secret in self._raw):
                return REDACTED
        return match.group()


def _header(match: re.Match[str]) -> str:
    name, between, value = match.groups()
    if not value.strip() or value.strip() == REDACTED:
        return match.group()
    if "cookie" in name.lower():
        value = _COOKIE_PAIR.sub(rf"\1{REDACTED}", value)
    else:
        scheme = _SCHEME.match(value)
        value = (scheme.group(1) if scheme else "") + REDACTED
    return f"{name}{between}{value}"


# Loggers of the HTTP libraries that may print a URL (query strings included) or headers.
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class RedactingFilter(logging.Filter):
    """Runs every record of a library logger through each live ``Redactor``."""

    def __init__(self) -> None:
        super().__init__()
        self.redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        text = original = record.getMessage()
        for redact in list(self.redactors):
            text = redact(text)
        if text != original:
            record.msg, record.args = text, None
        return True


_LIBRARY_FILTER = RedactingFilter()


def guard_library_logs(redactor: Redactor) -> None:
    """Make httpx's and httpcore's own log lines pass through ``redactor`` (idempotent).

    A logger's filters see only the records logged on that very logger, so each one
    that can print a URL or headers gets the filter.
    """
    _LIBRARY_FILTER.redactors.add(redactor)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if _LIBRARY_FILTER not in library.filters:
            library.addFilter(_LIBRARY_FILTER)


@dataclass
class LogEntry:
    at: datetime
    profile: str
    method: str
    path: str
    status: int | None
    ms: float
    attempt: int
    error: str = ""


@dataclass
class RequestLog:
    """A bounded ring of recent requests; listeners are told of each new entry."""

    size: int = 500
    entries: deque[LogEntry] = field(default_factory=deque)
    listeners: list[Callable[[LogEntry], None]] = field(default_factory=list)

    def add(self, entry: LogEntry) -> None:
        self.entries.append(entry)
        while len(self.entries) > self.size:
            self.entries.popleft()
        logger.debug(
            "%s %s %s %s %.0fms %s",
            entry.profile,
            entry.method,
            entry.path,
            entry.status,
            entry.ms,
            entry.error,
        )
        for listener in list(self.listeners):
            listener(entry)

    def recent(self, profile: str | None = None) -> Iterable[LogEntry]:
        return [e for e in self.entries if profile is None or e.profile == profile]

    @staticmethod
    def now() -> datetime:
        return utcnow()
