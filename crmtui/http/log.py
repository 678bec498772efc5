"""The request log: what the client sent and got, with secrets redacted."""

from __future__ import annotations

import logging
import re
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, quote_plus

from crmtui.model import utcnow

logger = logging.getLogger("crmtui.http")

REDACTED = "•••"
_SECRET_PARAMS = re.compile(
    r"(?i)((?:api[_-]?key|token|password|secret|access_token|auth)=)[^&\s]+"
)

# A cookie's value in a header as httpcore's trace logs it: (b'Set-Cookie', b'name=value;...').
_COOKIE_VALUES = re.compile(r"(?i)((?:set-)?cookie'?,\s*b?'[^=;']+=)[^;'\s]+")


class Redactor:
    """Replaces every registered secret, and secret-looking query values, with •••."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= 3:
                # As typed, and as it appears percent-encoded in a logged query string.
                self._secrets.update({secret, quote(secret, safe=""), quote_plus(secret)})

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        text = _COOKIE_VALUES.sub(rf"\1{REDACTED}", text)
        return _SECRET_PARAMS.sub(rf"\1{REDACTED}", text)


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
