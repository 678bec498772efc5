"""JSON decoded a slice at a time gives what ``json.loads`` gives, errors included."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmtui import jsonslices

# escapes, quotes, backslashes, surrogate pairs and lone surrogates, wide characters
TEXT = st.text(alphabet=st.sampled_from('ab "\\\n\t/é日😀\ud800\udc00\x01'), max_size=400)


@given(TEXT, st.booleans())
def test_long_strings_decode_as_json_loads_does(text: str, ascii_only: bool) -> None:
    document = json.dumps(
        {"a": text, "b": [text[:40], 1, 2.5, None, True], "c": {"d": text[::-1]}},
        ensure_ascii=ascii_only,
    )
    sliced = jsonslices.SLICE
    jsonslices.SLICE = 16  # small slices: every kind of cut is met
    try:
        assert jsonslices.loads(document) == json.loads(document)
        raw = document.encode("utf-8", "surrogatepass")  # a lone surrogate, as a reply may hold
        assert jsonslices.loads(raw) == json.loads(raw)
    finally:
        jsonslices.SLICE = sliced


@pytest.mark.parametrize("document", ['{"a": "x\x01y"}', '{"a": "abc', "[1,]", '{"a": 1} x'])
def test_what_json_refuses_is_refused(document: str) -> None:
    with pytest.raises(ValueError):
        json.loads(document)
    with pytest.raises(ValueError):
        jsonslices.loads(document)


def test_constants_go_through_parse_constant() -> None:
    def refuse(name: str) -> None:
        raise ValueError(name)

    with pytest.raises(ValueError, match="NaN"):
        jsonslices.loads('{"a": NaN}', parse_constant=refuse)
