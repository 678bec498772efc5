"""JSON decoded with its long strings a slice at a time, for threads that share the loop.

``json.loads`` decodes a string in one C call that holds the interpreter throughout: a
thread decoding a record with a 20 MB field kept the event loop from running for a
third of a second, as if it had decoded it on the loop itself. Here a string longer
than ``SLICE`` characters is decoded in slices cut where no escape sequence (nor a
surrogate pair) is split, and the event loop gets its turn between two slices. The
result is what ``json.loads`` gives (strings strictly checked, the same values); the
structure around the strings is read by the pure-Python scanner, so this is for a text
with a few long strings (a record, a reply holding one), not for many short ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import decoder, scanner
from typing import Any

# not in typeshed, documented in the modules: the C string scanner, the Python scanner
scanstring: Callable[[str, int, bool], tuple[str, int]] = decoder.scanstring  # type: ignore[attr-defined]
_py_make_scanner: Callable[[json.JSONDecoder], Any] = scanner.py_make_scanner  # type: ignore[attr-defined]

SLICE = 1 << 16  # characters of a long string decoded in one go (a fraction of a millisecond)
_ESCAPE = 6  # the longest escape sequence: \uXXXX


def _low_surrogate(s: str, at: int) -> bool:
    """Whether a ``\\uDC00``-``\\uDFFF`` escape starts at ``at`` (the second half of a pair)."""
    return (
        s.startswith("\\u", at) and s[at + 2 : at + 3] in "dD" and s[at + 3 : at + 4] in "cdefCDEF"
    )


def _cut(s: str, start: int, stop: int) -> int | None:
    """A place in (``start``, ``stop``] that splits no escape and no surrogate pair.

    ``stop`` itself when no backslash is close enough before it to start an escape that
    reaches it; else the first backslash of a run (an escape starts there: the character
    before it ends a literal or an escape), unless a pair's second half starts there.
    None when the slice's second half offers no such place (escapes everywhere).
    """
    low = start + SLICE // 2
    cut = stop
    while cut > low:
        last = s.rfind("\\", cut - _ESCAPE, cut)
        if last < 0:
            return cut
        first = last
        while first > start and s[first - 1] == "\\":
            first -= 1
        if first > low and not _low_surrogate(s, first):
            return first
        cut = first
    return None


def _closes(s: str, start: int, stop: int) -> bool:
    """Whether the string begun before ``start`` ends before ``stop`` (an unescaped quote)."""
    quote = s.find('"', start, stop)
    while quote >= 0:
        first = quote
        while first > start and s[first - 1] == "\\":
            first -= 1
        if (quote - first) % 2 == 0:  # an even run of backslashes escapes nothing
            return True
        quote = s.find('"', quote + 1, stop)
    return False


def scan_string(s: str, end: int, strict: bool = True) -> tuple[str, int]:
    """``json.decoder.scanstring``: the string starting at ``end`` (after its opening
    quote) and the index after its closing quote; a long one a slice at a time."""
    parts: list[str] = []
    start = end
    while True:
        stop = start + SLICE
        cut = None if stop >= len(s) or _closes(s, start, stop) else _cut(s, start, stop)
        if cut is None:  # the rest, closing quote included, in one go
            text, after = scanstring(s, start, strict)
            parts.append(text)
            return "".join(parts), after
        text, _ = scanstring(s[start:cut] + '"', 0, strict)
        parts.append(text)
        start = cut


class _Decoder(json.JSONDecoder):
    def __init__(self, parse_constant: Callable[[str], Any] | None, strict: bool) -> None:
        super().__init__(parse_constant=parse_constant, strict=strict)
        self.parse_string = scan_string
        self.scan_once = _py_make_scanner(self)


def loads(
    text: str | bytes,
    *,
    parse_constant: Callable[[str], Any] | None = None,
    strict: bool = True,
) -> Any:
    """``json.loads(text, parse_constant=..., strict=...)``, its long strings a slice at a
    time."""
    if isinstance(text, bytes | bytearray):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _Decoder(parse_constant, strict).decode(text)
