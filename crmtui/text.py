"""Text from elsewhere made inert: the one place that decides what may reach a screen.

Names, notes, titles, stage labels and error bodies come from a CRM, where anybody could
have typed anything. Before such text meets a widget (or notebook HTML) it goes through
``clean``: every character a terminal would act on, or that hides or reorders what is
shown, becomes a visible placeholder, so the user sees that something odd is there and
the terminal receives only printable text.

- C0 controls become their Unicode "control pictures" (ESC shows as ``␛``, BEL as ``␇``),
  DEL as ``␡``; the rest of an escape sequence stays as the plain text it is
  (``␛]52;c;…`` writes no clipboard, ``␛[2J`` clears nothing). Tab and the line breaks
  (CR, LF, CRLF, U+2028/U+2029, NEL) are kept as line breaks where text is shown on
  several lines, and become one space elsewhere.
- C1 controls (U+0080–U+009F, among them U+009B, a one-byte CSI), lone surrogates (a
  JSON ``"\\ud800"`` would crash the terminal's UTF-8 encoder), bidi embeddings,
  overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C)
  and the other invisible format characters (zero-width space, word joiner, BOM, tag
  characters that can smuggle hidden text) become U+FFFD ``�``.
- Kept: the zero-width joiner and non-joiner (emoji sequences, Persian and Indic
  scripts), combining marks, variation selectors, wide characters. The soft hyphen is
  dropped: terminals disagree on its width and it shows nothing.

Markup is the other half: ``inert`` gives a Rich ``Text`` made from the plain string,
so ``[bold]``, ``[/]`` or ``[@click=…]`` in vendor text are shown as typed and never parsed.
Where an API only takes a markup string (the palette's help line), ``markup_literal``
escapes it. Widgets that take ``str`` and parse it as markup (``Static``, ``Label``,
``DataTable`` cells, ``Option``) get ``inert(...)`` instead of the string.

Long values are cut before anything else looks at them (``limit``): a screen costs the
same to draw with a 20 MB note as with a short one; ``preview`` cuts a long value at a
few lines and says how much more there is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from rich.cells import cell_len, set_cell_size
from rich.text import Text

REPLACEMENT: Final = "\ufffd"
LINE_LIMIT: Final = 1_000  # characters of one-line text kept (no screen is wider)
PREVIEW_CHARS: Final = 600  # characters of a long value shown before the "more" marker
PREVIEW_LINES: Final = 6  # lines of a long value shown before the "more" marker

_DROP: Final = {"\u00ad"}  # soft hyphen
_BREAKS: Final = "\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"


def _placeholder(code: int) -> str:
    """The visible stand-in of one unsafe character."""
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, tab ␉, line feed ␊, carriage return ␍
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT


class _Placeholders(dict[int, str]):
    """``str.translate``'s table: each unsafe character's placeholder, made when first met."""

    def __missing__(self, code: int) -> str:
        shown = "" if chr(code) in _DROP else _placeholder(code)
        self[code] = shown
        return shown


_PLACEHOLDERS: Final = _Placeholders()


# Unicode's format characters (category Cf) but ZWNJ and ZWJ, as of Unicode 16; a test
# checks that every Cf character of the running Python is in here.
_FORMAT: Final = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
# C0 but tab and the line breaks, DEL, C1 but NEL, lone surrogates, format characters.
_UNSAFE_CLASS: Final = f"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff{_FORMAT}]"


_UNSAFE: Final = re.compile(_UNSAFE_CLASS + "+")
_LINE_BREAKS: Final = re.compile(_BREAKS)
_ONE_LINE: Final = re.compile(f"(?:{_BREAKS}|\t)+")


def _cut(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 1)] + "…"
    return text


def clean(text: object, *, multiline: bool = False, limit: int | None = LINE_LIMIT) -> str:
    """``text`` (any object, as ``str()``) with nothing a terminal acts on.

    One line unless ``multiline``; at most ``limit`` characters (cut with "…"; None: all).
    """
    value = text if isinstance(text, str) else ("" if text is None else str(text))
    value = _cut(value, limit)
    if value.isascii() and value.isprintable():
        return value  # the common case: nothing to do
    value = _LINE_BREAKS.sub("\n", value) if multiline else _ONE_LINE.sub(" ", value)
    return _UNSAFE.sub(lambda run: run.group().translate(_PLACEHOLDERS), value)


class _Visible(dict[int, str]):
    """``visible``'s table: one placeholder per character, so positions do not move."""

    def __missing__(self, code: int) -> str:
        shown = _placeholder(code)
        self[code] = shown
        return shown


_VISIBLE: Final = _Visible()
_NOT_ONE_CELL: Final = re.compile(f"[\x00-\x1f\x85\u2028\u2029{_UNSAFE_CLASS[1:-1]}]+")


def visible(text: str) -> str:
    """``text`` with each character ``clean`` would change replaced by one placeholder.

    For an editor showing vendor text: the value keeps its length, so the cursor and the
    selection stay where they are, and the terminal still gets nothing to act on.
    """
    if text.isascii() and text.isprintable():
        return text
    return _NOT_ONE_CELL.sub(lambda run: run.group().translate(_VISIBLE), text)


def inert(
    text: object, *, multiline: bool = False, limit: int | None = LINE_LIMIT, style: str = ""
) -> Text:
    """Vendor text for a widget: cleaned, and a ``Text``, so never parsed as markup.

    ``Static``, ``Label``, ``DataTable`` cells and ``Option`` prompts all take it; ``style``
    is ours (a Rich style such as "bold"); append more ``Text`` to it to add our own parts.
    """
    return Text(clean(text, multiline=multiline, limit=limit), style=style, end="")


def markup_literal(text: object, *, limit: int | None = LINE_LIMIT) -> str:
    """Vendor text for an API that only takes a markup string: shown as typed."""
    # Textual's parser: "[" after a backslash starts no tag, and "\\[" shows as "[";
    # other backslashes are text. (``textual.markup.escape`` leaves some "[" alone and
    # adds a backslash to text that ends in one, which the parser then shows.)
    return clean(text, limit=limit).replace("[", "\\[")


def fit_width(text: str, width: int, *, right: bool = False) -> str:
    """``text`` in exactly ``width`` terminal cells: cut with "…", or padded with spaces.

    Counted in cells, not characters: a CJK character or an emoji takes two, a combining
    accent none; a row of a list never runs past its column (nor a line past the screen).
    """
    if width <= 0:
        return ""
    if text.isascii():  # the common case: a character is a cell
        if len(text) > width:
            text = text[: width - 1] + "…"
        return text.rjust(width) if right else text.ljust(width)
    size = cell_len(text)
    if size > width:
        text = set_cell_size(text, width - 1) + "…"
        size = width
    padding = " " * (width - size)
    return padding + text if right else text + padding


@dataclass(frozen=True)
class Preview:
    """The start of a long value, cleaned, and how many characters are not shown."""

    text: str
    hidden: int

    @property
    def cut(self) -> bool:
        return self.hidden > 0


def preview(text: object, *, chars: int = PREVIEW_CHARS, lines: int = PREVIEW_LINES) -> Preview:
    """A long value's first ``chars`` characters or ``lines`` lines, whichever is less.

    The whole value is never scanned: a 20 MB note costs what its first lines cost.
    """
    value = text if isinstance(text, str) else ("" if text is None else str(text))
    head = value[:chars]
    start = 0
    for _ in range(lines):
        end = head.find("\n", start)
        if end < 0:
            break
        start = end + 1
    else:
        head = head[: start - 1]
    hidden = len(value) - len(head)
    if hidden <= chars and not value[len(head) :].strip():
        hidden = 0  # only trailing blanks are left out
    return Preview(clean(head, multiline=True, limit=None), hidden)


def amount(count: int) -> str:
    """A count of characters as people read it: "950", "12,400", "19.9 million"."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} million"
    return f"{count:,}"


def more_marker(hidden: int, key: str = "v") -> str:
    """The line under a cut value: how much is hidden and the key that shows it all."""
    return f"… {amount(hidden)} more character{'s' if hidden != 1 else ''} — {key} shows it all"
