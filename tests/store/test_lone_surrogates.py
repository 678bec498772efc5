"""A vendor reply may carry a lone ``\\ud800`` escape (valid JSON, not valid UTF-8 text):
it reads as U+FFFD and the record is stored with the rest of its page. Before, the
decoded string kept the lone surrogate and the cache write raised ``UnicodeEncodeError``,
failing the whole sync page for one odd record."""

from __future__ import annotations

import json

import pytest

from crmtui.http.client import LARGE_BODY, loads
from crmtui.store import Store
from tests.store.factory import rec

ODD = b'{"name": "Acme \\ud800 Ltd", "smile": "\\ud83d\\ude00", "\\udc00k": ["\\udbff"]}'
READ = {"name": "Acme \ufffd Ltd", "smile": "\U0001f600", "\ufffdk": ["\ufffd"]}


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_lone_surrogate_reads_as_a_replacement_character(size: str) -> None:
    body = ODD
    if size == "large":  # decoded a slice at a time (crmtui.jsonslices)
        body = ODD[:-1] + b', "pad": "' + b"x" * LARGE_BODY + b'"}'
    value = loads(body)
    value.pop("pad", None)
    assert value == READ
    assert loads(ODD.decode()) == READ  # a reply already text
    assert loads(b'{"path": "C:\\\\udata"}') == {"path": "C:\\udata"}  # an escaped backslash


def test_a_record_from_such_a_reply_is_stored_with_its_page(store: Store) -> None:
    name = loads(ODD)["name"]
    odd, plain = rec("1", name, note=name), rec("2", "Plain Ltd")
    assert store.upsert_records([odd, plain]) == 2
    got = store.get_record(odd.ref)
    assert got is not None and got.title == "Acme \ufffd Ltd"
    assert got.fields["note"] == "Acme \ufffd Ltd"
    assert json.dumps(got.fields, ensure_ascii=False).encode()  # writable as UTF-8
    assert [r.id for r in store.window("acme-fs", "company", offset=0, limit=5)] == ["1", "2"]
