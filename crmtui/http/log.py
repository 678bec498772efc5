"""The request log: what the client sent and got, with secrets redacted."""

from __future__ import annotations

import logging
import re
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
        return _SECRET_PARAMS.sub(rf"\1{REDACTED}", text)


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
