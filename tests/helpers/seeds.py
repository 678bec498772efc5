"""Each vendor sandbox's seeded account built once per test process, then copied.

A sandbox's ``create_app`` builds its account from ``(seed, scale, now)`` (a pure function:
``tests/sandbox`` checks it is deterministic, calling the data modules' ``build`` itself),
and nearly every test starts a sandbox: the same few accounts were built again for each
one. ``install()`` makes each sandbox app's ``build`` keep, pickled, the account of a key
built a second time, and give every later caller its own unpickled copy (a test may
change its copy at will; no two tests share one). What is not a plain key (an unhashable
argument) or cannot be pickled is built as before. Each xdist worker keeps its own. The sandboxes'
own tests (``tests/sandbox``) build every account afresh (``keeping(False)``): they check
the build itself (its speed, the same account twice from one seed).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from importlib import import_module
from typing import Any

VENDORS = ("freshsales", "salesloft", "activecampaign", "salesseek", "salesforceiq")
_installed: set[str] = set()
_keep = [True]


def keeping(on: bool) -> None:
    """Whether ``kept`` builds copy a kept account (on) or build each one (off)."""
    _keep[0] = on


def kept(build: Callable[..., Any]) -> Callable[..., Any]:
    """``build``, each account built once per key and copied for every caller."""
    # b"": seen once (a key seen once is often never seen again: an account anchored at
    # the real time); None: cannot be pickled, always built
    blobs: dict[object, bytes | None] = {}

    def build_copy(*args: Any, **kwargs: Any) -> Any:
        clock = kwargs.pop("clock", None)  # SalesSeek's "now" for writes: the caller's own
        options = dict(kwargs, **({} if clock is None else {"clock": clock}))
        key = (args, tuple(sorted(kwargs.items())))
        if not _keep[0]:
            return build(*args, **options)
        try:
            blob = blobs.get(key)
        except TypeError:  # an unhashable argument
            return build(*args, **options)
        if blob:
            db = pickle.loads(blob)
            if clock is not None:
                db.clock = clock
            return db
        db = build(*args, **options)
        if key not in blobs:
            blobs[key] = b""
        elif blob is not None:
            try:
                blobs[key] = pickle.dumps(db)
            except (pickle.PicklingError, TypeError, AttributeError):
                blobs[key] = None
        return db

    return build_copy


def install() -> None:
    """Every built-in sandbox app builds its account through ``kept`` (once a process)."""
    for vendor in VENDORS:
        if vendor not in _installed:
            module = import_module(f"crmtui.sandbox.{vendor}.app")
            module.build = kept(module.build)
            _installed.add(vendor)
