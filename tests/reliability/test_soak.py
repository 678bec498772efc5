"""A small soak: a few hundred random operations on all five sandboxes, faults at 10%."""

from __future__ import annotations

import pytest

from benchmarks.soak import main, soak


@pytest.mark.slow
@pytest.mark.loopback
async def test_a_small_soak_loses_nothing_and_duplicates_nothing() -> None:
    figures, problems = await soak(ops=300, seconds=60, seed=3)
    assert problems == []
    assert figures["operations"] == 300
    assert figures["faults injected"] > 0
    assert set(figures["faults by kind"]) >= {"429", "500", "503", "drop", "malformed", "lost"}
    assert figures["duplicates found"] == 0
    assert figures["edits"] > 50 and figures["creates"] > 10
    assert figures["edits acknowledged"] + figures["edits still queued"] == figures["edits"]
    assert figures["queued after drain"] == 0


def test_the_command_line_is_bounded_and_says_what_it_does() -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
