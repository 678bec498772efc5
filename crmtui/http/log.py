"""The request log: what the client sent and got, with secrets redacted."""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import json
import logging
import re
import unicodedata
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, quote_plus

from crmtui.model import utcnow, whole_text

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
    r"(?i)\b(proxy-authorization|authorization|api-token|x-api-key|x-auth-token|x-token|"
    r"set-cookie|cookie)\b(\\?[\"']?\s*[:=]\s*\\?[\"']?|[\"']\s*,\s*(?-i:b)?[\"'])((?:[^\r\n\"'\\]|\\/)*)"
)
_SCHEME = re.compile(r"(?i)^(\s*(?:basic|bearer|token|digest|negotiate)\b\s*)")
_COOKIE_PAIR = re.compile(r"(=)[^;,\s]+")
# A scheme and its credential outside a header line: "... Bearer eyJhb..." / "Basic dXNl...".
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/-]{8,}=*)")
# A run that may be base64 (standard or URL-safe), its pieces possibly split by blanks
# or line breaks (MIME wraps base64 at 76 columns; a proxy may wrap anywhere).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]+(?:[ \t\r\n]+[A-Za-z0-9+/_-]+)*={0,2}")
_BASE64_PIECE = re.compile(r"[A-Za-z0-9+/_-]+")
_URLSAFE = str.maketrans("-_", "+/")
_BASE64_TEXT = str.maketrans({"-": "+", "_": "/", " ": None, "\t": None, "\r": None, "\n": None})
# Escapes that hide text: %XX (URL), \uXXXX, \xXX and \/ \" \n... (JSON, Python),
# &#NN; &#xHH; &amp;... (HTML). Undone (twice at most) to look for a secret beneath.
_ESCAPE = re.compile(
    r"(?:%[0-9A-Fa-f]{2})+|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|\\[/\\\"'bfnrt]"
    r"|&#[0-9]{1,7};|&#[xX][0-9A-Fa-f]{1,6};|&(?:amp|lt|gt|quot|apos);"
)
# Each family of escapes alone: a writer applies one family to text that may already hold
# another's look-alikes (a secret holding "%01", JSON-escaped with "\u00A1"): undoing every
# family at once would turn that "%01" into a byte the secret does not have.
_FAMILIES = (
    re.compile(r"(?:%[0-9A-Fa-f]{2})+"),
    re.compile(r"\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|\\[/\\\"'bfnrt]"),
    re.compile(r"&#[0-9]{1,7};|&#[xX][0-9A-Fa-f]{1,6};|&(?:amp|lt|gt|quot|apos);"),
)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


def _forms(secret: str) -> set[str]:
    """The ways ``secret`` is commonly written as text (replaced at once; ``Redactor``
    also undoes escapes and joins split base64 to find the rest)."""
    encoded = quote(secret, safe="")
    forms = {
        secret,
        unicodedata.normalize("NFC", secret),
        unicodedata.normalize("NFD", secret),
        encoded,
        quote(secret),  # "/" kept, as quote() does by default
        quote_plus(secret),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded),
        quote(encoded, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),  # as PHP writes JSON
        html.escape(secret),
        secret.encode().hex(),
        secret.encode().hex().upper(),
    }
    return {form for form in forms if form}


def _raw_forms(secret: str) -> set[bytes]:
    """``secret``'s bytes as text encodings may give them (looked for in base64)."""
    # URL-encoded too: a form body (``api_key=<quoted secret>``) echoed back in base64
    found = {
        secret.encode(),
        secret.encode("utf-16-le"),
        quote(secret, safe="").encode(),
        quote_plus(secret).encode(),
    }
    with contextlib.suppress(UnicodeEncodeError):
        found.add(secret.encode("latin-1"))
    return found


def _core(data: bytes, offset: int) -> str:
    """The base64 characters that encode only ``data`` when it starts ``offset`` bytes
    into a 3-byte group: they appear in the base64 of anything holding ``data`` there."""
    encoded = base64.b64encode(bytes(offset) + data).decode()
    drop = (0, 2, 3)[offset]  # characters holding bits of the bytes before
    return encoded[drop : (offset + len(data)) * 8 // 6]


def _cores(data: bytes) -> tuple[str, ...]:
    """What the base64 of anything holding ``data`` holds, for each of the 3 alignments,
    and the same for base64 of base64 (a token encoded twice)."""
    once = tuple(_core(data, offset) for offset in range(3))
    twice = tuple(
        _core(core.encode(), offset) for core in once if len(core) >= 8 for offset in range(3)
    )
    return once + twice


def _b64decode(text: str) -> bytes | None:
    text = text.translate(_URLSAFE).rstrip("=")
    if len(text) % 4 == 1:
        text = text[:-1]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


@dataclass
class _View:
    """``text`` with each of its characters' span in the original text (None: the same)."""

    text: str
    starts: list[int] | None = None
    ends: list[int] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]

    def without_blanks(self) -> _View:
        """The text without blanks and line breaks."""
        kept = [i for i, char in enumerate(self.text) if not char.isspace()]
        spans = [self.span(i, i + 1) for i in kept]
        return _View(
            "".join(self.text[i] for i in kept), [a for a, _ in spans], [b for _, b in spans]
        )

    def unescaped(self, escapes: re.Pattern[str] = _ESCAPE) -> _View | None:
        """The text with one layer of ``escapes`` undone, or None when it holds none."""
        if not escapes.search(self.text):
            return None
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []

        def put(char: str, start: int, end: int) -> None:
            a, b = self.span(start, end)
            low = 0xDC00 <= ord(char) <= 0xDFFF
            if low and chars and 0xD800 <= ord(chars[-1]) <= 0xDBFF:  # a \\u surrogate pair
                char = chr(0x10000 + ((ord(chars[-1]) - 0xD800) << 10) + ord(char) - 0xDC00)
                chars.pop()
                a = starts.pop()
                ends.pop()
            chars.append(char)
            starts.append(a)
            ends.append(b)

        at = 0
        for match in escapes.finditer(self.text):
            for i in range(at, match.start()):
                put(self.text[i], i, i + 1)
            token, start = match.group(), match.start()
            if token.startswith("%"):
                for char, a, b in _percent_chars(token):
                    put(char, start + a, start + b)
            elif token.startswith(("\\u", "\\x")):
                put(chr(int(token[2:], 16)), start, match.end())
            elif token.startswith("\\"):
                put(_SIMPLE.get(token[1], token[1]), start, match.end())
            elif token.startswith("&#"):
                number = token[2:-1]
                code = int(number[1:], 16) if number[:1] in "xX" else int(number)
                put(chr(code) if code < 0x110000 else "\ufffd", start, match.end())
            else:
                put(_ENTITIES[token], start, match.end())
            at = match.end()
        for i in range(at, len(self.text)):
            put(self.text[i], i, i + 1)
        return _View("".join(chars), starts, ends)


def _unescaped(text: str) -> str | None:
    """``text`` with one layer of escapes undone (as ``_View.unescaped``), or None."""
    if not _ESCAPE.search(text):
        return None
    return whole_text(_ESCAPE.sub(_unescape_token, text))


def _unescape_token(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith("%"):
        return "".join(char for char, _, _ in _percent_chars(token))
    if token.startswith(("\\u", "\\x")):
        return chr(int(token[2:], 16))
    if token.startswith("\\"):
        return _SIMPLE.get(token[1], token[1])
    if token.startswith("&#"):
        number = token[2:-1]
        code = int(number[1:], 16) if number[:1] in "xX" else int(number)
        return chr(code) if code < 0x110000 else "\ufffd"
    return _ENTITIES[token]


def _percent_chars(token: str) -> Iterable[tuple[str, int, int]]:
    """The characters of a run of %XX escapes (UTF-8, else one byte each), each with
    its span in the run."""
    data = bytes(int(token[i + 1 : i + 3], 16) for i in range(0, len(token), 3))
    i = 0
    while i < len(data):
        for size in (1, 2, 3, 4):
            try:
                char = data[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                continue
            break
        else:
            char, size = chr(data[i]), 1
        yield char, i * 3, (i + size) * 3
        i += size


class Redactor:
    """Removes secrets from text that may be shown, logged or stored.

    Every registered secret in every form: as typed, URL-encoded (any set of characters
    kept, any hex case, form-style, twice), JSON-escaped (``\\u00F6``, every character
    ``\\uXXXX``, ``\\/``), HTML-escaped, hex, or base64 of anything holding it (HTTP Basic
    of ``key:secret``, ``key:``, ``user:password``; standard or URL-safe, wrapped or split
    across lines, of UTF-8, UTF-16 or Latin-1 text, or base64 of base64). Escapes are
    undone (two layers deep) on a copy that remembers where each character came from, so
    a secret found beneath them is removed from the text as written. Besides, the value
    of every credential header however it is quoted (Authorization with its scheme,
    Api-Token, X-Api-Key, Cookie and Set-Cookie values), a Bearer or Basic credential
    anywhere, and secret-looking query values (``api_key=``, ``token=``...) become •••.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._plain: set[str] = set()
        # Each secret's bytes -> the base64 text any encoding of data holding them holds
        # (``_cores``); secrets too short for that are looked for by decoding (``_short``).
        self._cores: dict[bytes, tuple[str, ...]] = {}
        self._short: set[bytes] = set()
        self._core_re: re.Pattern[str] | None = None  # every core, built when first needed

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= 3:
                self._secrets.update(_forms(secret))
                self._plain.update(
                    {secret, *(unicodedata.normalize(f, secret) for f in ("NFC", "NFD"))}
                )
                self._core_re = None
                for raw in _raw_forms(secret):
                    cores = _cores(raw)
                    if min(map(len, cores)) >= 6:
                        self._cores[raw] = cores
                    else:
                        self._short.add(raw)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        if self._cores or self._short:
            text = self._hidden(text)
        text = _HEADERS.sub(_header, text)
        text = _SCHEME_VALUE.sub(rf"\1\2{REDACTED}", text)
        text = _COOKIE_VALUES.sub(rf"\1{REDACTED}", text)
        return _SECRET_PARAMS.sub(rf"\1{REDACTED}", text)

    def _hidden(self, text: str) -> str:
        """``text`` without the secrets found beneath escapes or in base64.

        Looks as written, then with one and two layers of escapes undone. The cheap
        ``_unescaped`` text says whether a layer may hold a secret; only then is the
        layer rebuilt with where each character came from (``_View``), to cut it out.
        """
        layers = [text]
        while len(layers) < 3 and (deeper := _unescaped(layers[-1])) is not None:
            layers.append(deeper)
        wanted = [i for i, layer in enumerate(layers) if self._may_hold(layer)]
        if not wanted:
            return text
        spans: list[tuple[int, int]] = []
        view: _View | None = _View(text)
        for level in range(max(wanted) + 1):
            if view is None:
                break
            if level in wanted:
                spans += [view.span(a, b) for a, b in self._found(view.text)]
                if self._maybe_broken(view.text):  # a secret broken over lines
                    joined = view.without_blanks()
                    spans += [joined.span(a, b) for a, b in self._found(joined.text, long=True)]
            if level < max(wanted):
                view = view.unescaped()
        if sum(bool(family.search(text)) for family in _FAMILIES) > 1:
            for family in _FAMILIES:
                alone = _View(text).unescaped(family)
                if alone is not None and self._may_hold(alone.text):
                    spans += [alone.span(a, b) for a, b in self._found(alone.text)]
        for start, end in sorted(_merged(spans), reverse=True):
            text = text[:start] + REDACTED + text[end:]
        return text

    def _may_hold(self, text: str) -> bool:
        """A quick look: may ``text`` hold a secret as is, broken by blanks or in base64?"""
        if self._short or self._maybe_broken(text):
            return True
        formed = text.replace("+", " ")
        if any(secret in text or secret in formed for secret in self._plain):
            return True
        if self._core_re is None:
            self._core_re = re.compile(
                "|".join(map(re.escape, {c for cs in self._cores.values() for c in cs}))
            )
        return self._core_re.search(text.translate(_BASE64_TEXT)) is not None

    def _maybe_broken(self, text: str) -> bool:
        """Whether ``text`` may hold a long secret broken by blanks: it holds blanks and
        the first or last 4 characters of one (a break leaves one of them whole)."""
        return any(c.isspace() for c in text) and any(
            secret[:4] in text or secret[-4:] in text for secret in self._plain if len(secret) >= 8
        )

    def _found(self, text: str, *, long: bool = False) -> list[tuple[int, int]]:
        """Spans of ``text`` holding a secret as is or in base64 (``long``: only secrets
        of 8 characters or more, which text joined across blanks cannot hold by chance).
        """
        found = []
        for candidate in {text, text.replace("+", " ")}:  # "+" is a blank, form-style
            for secret in self._plain:
                if long and len(secret) < 8:
                    continue
                at = candidate.find(secret)
                while at >= 0:
                    found.append((at, at + len(secret)))
                    at = candidate.find(secret, at + 1)
        if not long:
            for run in _BASE64_RUN.finditer(text):
                found += self._base64(run)
        return found

    def _base64(self, run: re.Match[str]) -> list[tuple[int, int]]:
        """The span of ``run`` (pieces split by blanks) that decodes to a secret, if any."""
        whole = run.group()
        if len(whole) < 4:
            return []
        everything = self._secrets_in("".join(whole.split()))
        if not everything:
            return []
        text = run.string
        pieces = [
            (run.start() + m.start(), run.start() + m.end()) for m in _BASE64_PIECE.finditer(whole)
        ]

        def holds(first: int, last: int) -> bool:  # every secret the whole run holds
            joined = "".join(text[a:b] for a, b in pieces[first : last + 1])
            return self._secrets_in(joined) == everything

        first, last = 0, len(pieces) - 1
        while first < last and holds(first + 1, last):
            first += 1
        while last > first and holds(first, last - 1):
            last -= 1
        end = run.end() if last == len(pieces) - 1 else pieces[last][1]
        return [(pieces[first][0], end)]

    def _secrets_in(self, run: str) -> frozenset[bytes]:
        """The secrets ``run`` (base64, no blanks) holds once decoded, or decoded twice."""
        run = run.translate(_URLSAFE)
        found = {raw for raw, cores in self._cores.items() if any(c in run for c in cores)}
        if self._short:  # too short for the look-up by cores: decode
            for start in range(4):  # the run may begin part-way through a base64 quantum
                decoded = _b64decode(run[start:]) or b""
                found.update(raw for raw in self._short if raw in decoded)
        return frozenset(found)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


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
