"""A small soak: a few hundred random operations on all five sandboxes, faults at 10%."""

from __future__ import annotations

import pytest

from benchmarks.soak import main, shared_soak, soak


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


@pytest.mark.slow
@pytest.mark.loopback
async def test_processes_sharing_a_cache_and_killed_lose_nothing_and_duplicate_nothing() -> None:
    figures, problems = await shared_soak(
        processes=2, ops=50, seconds=90, seed=5, rate=0.2, kills=3, kill_every=1.0
    )
    assert problems == []
    # kills are drawn at random moments, at most ``kills``; a fast run may end before the
    # last one: what matters is that processes were killed mid-work and nothing was lost
    assert 1 <= figures["kill -9"] <= 3
    assert set(figures["faults by kind"]) >= {"late", "lost", "302", "500"}
    assert figures["told queued (journal)"] > 20
    assert figures["duplicates found"] == 0
    assert figures["edits lost"] == 0
    assert figures["acknowledged but not applied"] == 0
    assert figures["queued after drain"] == 0
