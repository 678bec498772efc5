"""``crmtui.text``: vendor text made inert (no terminal control, no markup), long text cut."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.content import Content

from crmtui.text import (
    LINE_LIMIT,
    PREVIEW_CHARS,
    clean,
    fit_width,
    inert,
    markup_literal,
    more_marker,
    preview,
    visible,
)

KEPT_FORMAT = {"\u200c", "\u200d"}  # ZWNJ, ZWJ


def unsafe(char: str, *, multiline: bool = False) -> bool:
    """What no terminal may receive, written out independently of the module."""
    code = ord(char)
    if multiline and char in "\n\t":
        return False
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or char in "\u2028\u2029"
        or (unicodedata.category(char) == "Cf" and char not in KEPT_FORMAT)
    )


HOSTILE = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Zl", "Zp"))),
    st.lists(
        st.sampled_from(
            [
                "[bold red]",
                "[/]",
                "[@click=app.quit]",
                "[link=https://evil.example]",
                "\x1b]52;c;aGFja2Vk\x07",
                "\x1b]0;title\x1b\\",
                "\x1b[2J",
                "\x9b31m",
                "\u202e",
                "\u2066",
                "\r\n",
                "\t",
                "\\",
                "漢",
                "e\u0301",
                "👩\u200d💻",
                "plain words ",
                "$accent",
                ":smile:",
                "\\\\[",
            ]
        )
    ).map("".join),
)


@given(HOSTILE, st.booleans())
def test_clean_leaves_nothing_a_terminal_acts_on(text: str, multiline: bool) -> None:
    shown = clean(text, multiline=multiline, limit=None)
    assert not [c for c in shown if unsafe(c, multiline=multiline)]
    if not multiline:
        assert "\n" not in shown and "\t" not in shown


@given(
    st.text(alphabet=st.characters(codec=None, exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")))
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert clean(text, limit=None) == text
    assert clean(text, multiline=True, limit=None) == text


@settings(max_examples=300)
@given(HOSTILE)
def test_markup_is_shown_as_typed(text: str) -> None:
    assert inert(text).plain == clean(text)
    assert Content.from_markup(markup_literal(text)).plain == clean(text)


def test_placeholders_are_visible() -> None:
    assert clean("a\x1b]52;c;aGk=\x07b") == "a␛]52;c;aGk=␇b"
    assert clean("\x1b[2J\x9b2J\x7f\x00") == "␛[2J\ufffd2J␡␀"
    assert clean("evil\u202etxt.exe\u2066") == "evil\ufffdtxt.exe\ufffd"
    assert clean("lone \ud800 surrogate") == "lone \ufffd surrogate"
    assert clean("two\r\nlines\tand\u2028more") == "two lines and more"
    assert clean("two\r\nlines\rthree", multiline=True) == "two\nlines\nthree"
    assert clean("Mül\u00adler 👩\u200d💻 zwnj\u200c") == "Müller 👩\u200d💻 zwnj\u200c"
    assert clean(None) == "" and clean(12) == "12"


def test_every_format_character_of_this_python_is_replaced() -> None:
    missed = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cf"
        and chr(code) not in KEPT_FORMAT
        and clean(chr(code)) not in ("\ufffd", "")
    ]
    assert missed == []


def test_long_text_is_cut_before_it_is_scanned() -> None:
    assert len(clean("x" * 5_000)) == LINE_LIMIT
    assert clean("x" * 5_000).endswith("…")
    assert clean("abcdef", limit=4) == "abc…"


@given(st.text(alphabet="ab\n\x1b", max_size=400), st.integers(1, 50), st.integers(1, 8))
def test_preview_keeps_the_start_and_counts_the_rest(text: str, chars: int, lines: int) -> None:
    shown = preview(text, chars=chars, lines=lines)
    assert len(shown.text) <= chars
    assert shown.text.count("\n") < lines
    assert "\x1b" not in shown.text
    assert shown.hidden <= len(text)
    head = text[: len(text) - shown.hidden]
    if shown.cut:
        assert text.startswith(head) and clean(head, multiline=True, limit=None) == shown.text
    else:
        assert not text[len(shown.text) :].strip()


def test_preview_of_a_huge_value_and_its_marker() -> None:
    big = "word " * 4_000_000  # 20 MB
    shown = preview(big)
    assert shown.cut and len(shown.text) == PREVIEW_CHARS
    assert shown.hidden == len(big) - PREVIEW_CHARS
    assert more_marker(shown.hidden) == "… 20.0 million more characters — v shows it all"
    assert more_marker(950) == "… 950 more characters — v shows it all"
    assert not preview("short\n").cut


@given(HOSTILE)
def test_visible_keeps_every_position(text: str) -> None:
    shown = visible(text)
    assert len(shown) == len(text)  # a cursor at n stays on the same character
    assert not [c for c in shown if unsafe(c)]
    assert [a for a, b in zip(text, shown, strict=True) if a != b] == [
        c for c in text if unsafe(c) or c in "\x85\u00ad"
    ]


def test_cli_errors_print_vendor_words_inert(capsys: pytest.CaptureFixture[str]) -> None:
    from crmtui.cli import say

    say("Freshsales refused: [/] \x1b]52;c;aGk=\x07\nsecond \x9b2J line")
    err = capsys.readouterr().err
    assert err == "crmtui: Freshsales refused: [/] ␛]52;c;aGk=␇\ncrmtui: second \ufffd2J line\n"


@given(st.text(max_size=60), st.integers(0, 40), st.booleans())
def test_fit_width_fills_exactly_the_cells_given(text: str, width: int, right: bool) -> None:
    from rich.cells import cell_len

    text = clean(text, limit=None)
    shown = fit_width(text, width, right=right)
    assert cell_len(shown) == width
    if cell_len(text) <= width:
        assert shown.strip(" ") == text.strip(" ")


def test_fit_width_counts_wide_characters_as_two_cells() -> None:
    assert fit_width("漢字漢字", 5) == "漢字…"
    assert fit_width("漢字", 6, right=True) == "  漢字"
    assert fit_width("abcdef", 4) == "abc…"
