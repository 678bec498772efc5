"""Shared fixtures: a vendor adapter wired to its sandbox (``tests.helpers.wiring``)."""

from __future__ import annotations

import compileall
import gc
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from fnmatch import fnmatch
from functools import partial
from pathlib import Path

import pytest

from crmtui.http import Http
from tests.helpers import seeds
from tests.helpers.contract import children_watched, reach_children, unexcused, watching
from tests.helpers.wiring import Wired
from tests.helpers.wiring import wire as wire_to

__all__ = ["Wired"]  # still importable from here meanwhile


HERE = Path(__file__).parent  # tests/
MEMORY_TEMP = Path("/dev/shm")  # Linux's tmpfs: files in memory, no disk under them


def pytest_configure(config: pytest.Config) -> None:
    temp_in_memory(config)
    compiled_once(config)
    config.addinivalue_line(
        "markers",
        "off_contract(*texts): the test sends requests outside a vendor's contract on "
        "purpose (only the rules broken whose description holds one of the texts, if any)",
    )
    seeds.install()  # each sandbox's seeded account built once per process, then copied
    reach_children()  # crmtui in a child process is held to the contracts too


def compiled_once(config: pytest.Config) -> None:
    """With xdist workers: the test modules' assertion-rewritten bytecode, and the plain
    bytecode of the modules they import from tests/ and benchmarks/, written once here
    before the workers start, where it is missing or out of date. Each worker reads it
    instead of rewriting and compiling all 185 modules itself (with
    ``PYTHONDONTWRITEBYTECODE`` set nothing is ever cached; on a fresh clone the workers
    collect at once, so each did all of it). Measured on a fresh clone, 3 workers, no
    test selected (``-k`` matching none), side by side with the old way: CPU 32.5 s ->
    17.6 s and 27.0 s -> 14.6 s (wall, load 8: 67.6 s -> 57.4 s and 48.2 s -> 46.8 s).
    Uses pytest's own rewriter (``_pytest.assertion.rewrite``, not public API): if it
    is not there as expected, the workers rewrite as before."""
    if hasattr(config, "workerinput") or config.getoption("dist", "no") == "no":
        return
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
        for path in sorted(HERE.rglob("*.py")):
            if not any(
                fnmatch(path.name, p) for p in [*config.getini("python_files"), "conftest.py"]
            ):
                compileall.compile_file(path, quiet=2, legacy=False)
                continue
            cache = rewrite.get_cache_dir(path)
            pyc = cache / (path.name[:-3] + rewrite.PYC_TAIL)
            if rewrite._read_pyc(path, pyc, state.trace) is None and rewrite.try_makedirs(cache):
                stat, code = rewrite._rewrite_test(path, config)
                rewrite._write_pyc(state, code, stat, pyc)
    except (AttributeError, ImportError, KeyError, OSError, SyntaxError):
        return  # pytest's rewriter changed: each worker rewrites for itself
    compileall.compile_dir(HERE.parent / "benchmarks", quiet=2, legacy=False)


def temp_in_memory(config: pytest.Config) -> None:
    """Each test's ``tmp_path`` on tmpfs where the machine has one, as pytest's
    ``PYTEST_DEBUG_TEMPROOT`` puts it (numbered ``pytest-of-<user>/pytest-N`` folders, a
    folder per xdist worker), unless ``--basetemp`` or that variable says where. The
    caches tests make there are SQLite files that sync on every checkpoint; nothing
    tested needs a real disk (a full disk is SQLite's page limit, set by the test).
    Measured on tests/store and tests/service (-n0, the two runs side by side, load 8-9),
    twice: CPU 46.1 s -> 43.4 s and 45.2 s -> 44.1 s, wall 180 s -> 161 s and 186 s ->
    171 s."""
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    if MEMORY_TEMP.is_dir() and os.access(MEMORY_TEMP, os.W_OK | os.X_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(MEMORY_TEMP)  # workers inherit it


def pytest_collection_finish(session: pytest.Session) -> None:
    """Less garbage-collector work once every test module is imported (in each xdist
    worker): what is alive now (Textual, the app's modules) lives to the end, so it leaves
    the collector's view (``gc.freeze``), and a young generation of 10,000 objects, not
    700, sweeps an app's many short-lived objects (widgets, strips, styles) less often.
    Measured on tests/ui/test_snapshots.py: collector CPU 2.1 s -> 0.9 s."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@pytest.fixture(autouse=True)
def seeded_accounts(request: pytest.FixtureRequest) -> None:
    """A sandbox's account is a copy of one built earlier in the process, except in the
    sandboxes' own tests, which check the build (``tests.helpers.seeds``)."""
    seeds.keeping(request.node.path.parent.name != "sandbox")


@pytest.fixture(autouse=True)
def vendor_contracts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails any test in which a request to a sandbox leaves its vendor's contract (path,
    method, parameter, sort key, body field), unless a known drift
    (``tests.helpers.contract.KNOWN_DRIFTS``) or marked ``off_contract``; also when
    crmtui sent it from a child process the test started. ``off_contract("text", ...)``
    excuses only the rules broken whose description holds one of the texts (the request
    sent on purpose), so the test's other requests are still held to the contract."""
    with watching() as watch, children_watched() as by_children:
        yield
        children = by_children()
    marker = request.node.get_closest_marker("off_contract")
    report = unexcused(watch, children, None if marker is None else marker.args)
    if report:
        pytest.fail(report, pytrace=False)


@pytest.fixture
def wire() -> Iterator[Callable[..., Wired]]:
    """``wire("freshsales", transport="asgi"|"loopback", seed=0, faults=Faults(...))``.

    Retries do not really sleep (``Http(sleep=...)``) unless ``real_sleep=True``.
    """
    with ExitStack() as stack:
        yield partial(wire_to, stack)


@pytest.fixture
async def closing_http() -> AsyncIterator[list[Http]]:
    clients: list[Http] = []
    yield clients
    for client in clients:
        await client.aclose()
