"""Imported by Python at the start of every process the test suite starts: this folder
is on ``PYTHONPATH`` (``tests.helpers.contract.reach_children``, from ``tests/conftest.py``).

When the suite asks for it (the environment names a file in
``tests.helpers.contract.CHILD_LOG``), crmtui in this child process (``crmtui serve
--demo``, a crash or kill -9 child) is held to the vendors' contracts as the suite itself
is: once crmtui's HTTP client is imported, its first request starts the same watch
(``tests.helpers.contract.watching``), and each rule broken is written to that file at
once, a line each (the child may be killed), for the test that started it to fail.
Nothing happens otherwise: a process the suite did not ask about is left as it is.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_LOG = os.environ.get("CRMTUI_TEST_CONTRACTS", "")
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
_CLIENT = "crmtui.http.client"
_KEPT: list[Any] = []


def _write(line: str) -> None:
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def _watch() -> None:
    """Start the suite's watch for the rest of this process."""
    if _ROOT not in sys.path:
        sys.path.append(_ROOT)
    from tests.helpers.contract import watching

    watch = watching(sink=lambda v: _write(str(v)))
    watch.__enter__()
    _KEPT.append(watch)  # held: a watch collected would close, and stop watching


def _arm(client: ModuleType) -> None:
    """The watch starts on the client's first request (importing it now, while crmtui's
    HTTP package is still being imported, would be circular)."""
    routing: Any = client.RoutingTransport
    original = routing.handle_async_request

    async def first(self: Any, request: Any) -> Any:
        routing.handle_async_request = original
        try:
            _watch()
        except Exception as exc:  # the child must not fail for the watch: say so instead
            _write(f"the contract watch could not start in a child process: {exc!r}")
        return await routing.handle_async_request(self, request)

    routing.handle_async_request = first


class _AfterClient(importlib.abc.MetaPathFinder):
    """Finds nothing itself: arms the watch once crmtui's HTTP client module is run."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != _CLIENT:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        loader: Any = spec.loader if spec is not None else None
        if loader is None:
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _arm(module)

        loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _AfterClient())
